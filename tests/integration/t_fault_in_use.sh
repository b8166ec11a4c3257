# The login, or the greeting, is answered -ERR [IN-USE]: exit 69, no
# message recorded, nothing fetched, no credential sent after a refusing
# greeting; a greeting of -ERR [SYS/TEMP] is 75; the re-run without the
# fault converges.
. "$IT_DIR/lib.sh"

mapfile -t files < <(corpus_files)
files=("${files[@]:0:12}")
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"

hostile_start --in-use
hostile_backup --delete
expect_rc 69 "backup of a mailbox in use"
assert_grep "$PV_ERR" "hostile@$HOST:$HP_PORT" "stderr names the account"
assert_grep "$HP_LOG" '^1 !IN-USE$' "the server refused the lock"
assert_no_grep "$HP_LOG" "RETR" "RETR after [IN-USE]"
assert_no_grep "$HP_LOG" "DELE" "DELE after [IN-USE]"
assert_eq 12 "$(hostile_count)" "messages left on the server"
[ ! -f "$STATE" ] ||
	assert_eq 0 "$(sql "$STATE" "SELECT count(*) FROM messages")" "message rows after [IN-USE]"
assert_eq "" "$(archive_volumes "$ARCH")" "volumes after [IN-USE]"
hostile_stop

# The same refusal in the greeting (some servers lock before the login),
# and a greeting refusing for another reason: a temporary failure, 75.
hostile_start --greeting-err "[IN-USE] mailbox busy, try later"
hostile_backup --delete
expect_rc 69 "a greeting of -ERR [IN-USE]"
assert_grep "$PV_ERR" "hostile@$HOST:$HP_PORT: .*IN-USE" "stderr names the account and the refusal"
assert_no_grep "$HP_LOG" "PASS" "a password after a refusing greeting"
assert_no_grep "$HP_LOG" "AUTH" "a login after a refusing greeting"
assert_eq 12 "$(hostile_count)" "messages left on the server"
hostile_stop
hostile_start --greeting-err "[SYS/TEMP] maintenance"
hostile_backup --delete
expect_rc 75 "a greeting of -ERR [SYS/TEMP]"
assert_grep "$PV_ERR" "hostile@$HOST:$HP_PORT: .*maintenance" "stderr quotes the refusal"
assert_eq 12 "$(hostile_count)" "messages left on the server"
[ ! -f "$STATE" ] ||
	assert_eq 0 "$(sql "$STATE" "SELECT count(*) FROM messages")" "message rows after refusing greetings"
hostile_stop

hostile_start
hostile_backup --delete
expect_rc 0 "re-run without the fault"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
exit 0

