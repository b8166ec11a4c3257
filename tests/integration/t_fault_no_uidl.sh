# The server answers UIDL with -ERR: popvault cannot track messages, so it
# stops with a clear error and a non-zero exit, deleting nothing; the re-run
# against a server with UIDL converges.
. "$IT_DIR/lib.sh"

mapfile -t files < <(corpus_files)
files=("${files[@]:0:12}")
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"

hostile_start --no-uidl
hostile_backup --delete
expect_rc 76 "backup from a server without UIDL (a protocol failure)"
assert_grep "$PV_ERR" "hostile@$HOST:$HP_PORT" "stderr names the account"
assert_grep "$PV_ERR" "UIDL" "stderr says UIDL is the problem"
assert_no_grep "$HP_LOG" "DELE" "DELE without UIDL"
assert_eq 12 "$(hostile_count)" "messages left on the server"
hostile_nothing_lost "$TEST_TMP/expected" "the refused UIDL"
hostile_stop

hostile_start
hostile_backup --delete
expect_rc 0 "re-run without the fault"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
exit 0

