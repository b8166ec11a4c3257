# --delete run; the server acknowledges every DELE but closes the connection
# instead of answering QUIT, so it deletes nothing: popvault must not report
# success, every message is archived and still on the server; the re-run
# with --delete empties the mailbox without storing anything twice.
. "$IT_DIR/lib.sh"

mapfile -t files < <(corpus_files)
files=("${files[@]:0:12}")
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"

hostile_start --drop-before-quit
hostile_backup --delete
expect_rc 75 "backup whose QUIT was never answered (nothing was deleted)"
assert_grep "$PV_ERR" "hostile@$HOST:$HP_PORT" "stderr names the account"
assert_grep "$HP_LOG" '^1 DELE 1$' "DELE was sent"
assert_grep "$HP_LOG" '^1 QUIT$' "QUIT was sent"
assert_eq 12 "$(hostile_count)" "messages left on the server"
hostile_nothing_lost "$TEST_TMP/expected" "the dropped QUIT"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive after the dropped QUIT"
assert_eq 0 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE deleted_at > 0")" \
	"messages recorded as deleted although QUIT was never answered"
hostile_stop

hostile_start
hostile_backup --delete
expect_rc 0 "re-run without the fault"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
exit 0

