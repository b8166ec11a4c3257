# RETR of one message answered -ERR [SYS/TEMP] in a --delete run: that
# message stays on the server, the others are archived and deleted, exit 65
# naming it; the re-run without the fault archives it and empties the box.
. "$IT_DIR/lib.sh"

mapfile -t files < <(corpus_files)
files=("${files[@]:0:12}")
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"

hostile_start --err-on-retr 4 disk on fire
hostile_backup --delete
expect_rc 65 "backup with one RETR refused"
assert_grep "$PV_ERR" "hostile@$HOST:$HP_PORT" "stderr names the account"
assert_grep "$PV_ERR" "RETR 4|message 4|disk on fire" "stderr names the refused message"
assert_grep "$HP_LOG" '^1 QUIT$' "QUIT ends the session"
assert_no_grep "$HP_LOG" "DELE 4" "DELE of the refused message"
hostile_nothing_lost "$TEST_TMP/expected" "the refused RETR"
assert_eq "$(hashes_of "${files[3]}")" "$(hostile_hashes)" "the message left on the server"
hashes_of "${files[@]:0:3}" "${files[@]:4}" >"$TEST_TMP/others"
assert_same_set "$TEST_TMP/others" "$TEST_TMP/archive.hashes" "archive after the refused RETR"
hostile_stop

hostile_start
hostile_backup --delete
expect_rc 0 "re-run without the fault"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
exit 0

