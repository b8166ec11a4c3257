# Two messages share one UIDL: popvault cannot tell them apart, so both stay
# on the server (exit 65), the others are archived and deleted; the re-run
# with distinct UIDLs converges.
. "$IT_DIR/lib.sh"

mapfile -t files < <(corpus_files)
files=("${files[@]:0:12}")
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"

hostile_start --dup-uidl
hostile_backup --delete
expect_rc 65 "backup with a duplicate UIDL"
assert_grep "$PV_ERR" "hostile@$HOST:$HP_PORT" "stderr names the account"
! grep -Eq '^1 DELE [12]$' "$HP_LOG" || fail "DELE of a message with a duplicate UIDL"
assert_grep "$HP_LOG" '^1 DELE 3$' "DELE of the other messages"
assert_grep "$PV_ERR" "message 1.*UIDL" "stderr names the messages with a duplicate UIDL"
hostile_nothing_lost "$TEST_TMP/expected" "the duplicate UIDL"
hashes_of "${files[@]:0:2}" >"$TEST_TMP/dups"
hostile_hashes >"$TEST_TMP/left"
assert_same_set "$TEST_TMP/dups" "$TEST_TMP/left" "messages left on the server"
hostile_stop

hostile_start
hostile_backup --delete
expect_rc 0 "re-run without the fault"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
exit 0

