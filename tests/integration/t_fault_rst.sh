# The server resets the connection (RST) in the middle of a message during
# a --delete run: exit 75, no DELE and no QUIT sent, nothing deleted; the
# re-run without the fault archives everything once and empties the mailbox.
. "$IT_DIR/lib.sh"

mapfile -t files < <(corpus_files)
files=("${files[@]:0:12}")
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"

hostile_start --cut-after-bytes-in-retr 6 500 --rst
hostile_backup --delete
expect_rc 75 "backup reset mid-RETR"
assert_grep "$PV_ERR" "hostile@$HOST:$HP_PORT" "stderr names the account"
assert_grep "$HP_LOG" '^1 RETR 6$' "RETR 6 was sent"
assert_no_grep "$HP_LOG" "QUIT" "QUIT after the cut"
assert_no_grep "$HP_LOG" "DELE" "DELE before the cut"
assert_eq 12 "$(hostile_count)" "messages left on the server"
hostile_nothing_lost "$TEST_TMP/expected" "the cut"
# Unlike a FIN, a reset makes the kernel drop data that was received but
# not yet read, so which of messages 1-5 reached popvault is not fixed:
# only "nothing lost" (above) holds.
hostile_stop

hostile_start
hostile_backup --delete
expect_rc 0 "re-run without the fault"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
exit 0
