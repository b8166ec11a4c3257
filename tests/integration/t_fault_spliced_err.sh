# The server sends half of a message, then an "-ERR" line, then closes: exit
# 75, the truncated message is never stored nor recorded, nothing deleted;
# the re-run without the fault converges.
. "$IT_DIR/lib.sh"

mapfile -t files < <(corpus_files)
files=("${files[@]:0:12}")
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"

hostile_start --err-spliced 4
hostile_backup --delete
expect_rc 75 "backup with -ERR spliced into a body"
assert_grep "$PV_ERR" "hostile@$HOST:$HP_PORT" "stderr names the account"
assert_no_grep "$HP_LOG" "QUIT" "QUIT after the fault"
assert_no_grep "$HP_LOG" "DELE" "DELE in the faulty session"
assert_eq 12 "$(hostile_count)" "messages left on the server"
hostile_nothing_lost "$TEST_TMP/expected" "the spliced -ERR"
# Every member and every recorded hash is one of the real messages.
assert_subset "$TEST_TMP/archive.hashes" "$TEST_TMP/expected" "archive members (a truncated one?)"
sql "$STATE" "SELECT lower(CASE WHEN typeof(sha256) = 'blob' THEN hex(sha256) ELSE sha256 END) FROM messages WHERE sha256 IS NOT NULL" |
	sort -u >"$TEST_TMP/recorded"
assert_subset "$TEST_TMP/recorded" "$TEST_TMP/expected" "hashes in the state db (a truncated one?)"
hostile_stop

hostile_start
hostile_backup --delete
expect_rc 0 "re-run without the fault"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
exit 0

