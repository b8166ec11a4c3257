# The server answers -ERR to one DELE of a --delete run.  That message was
# archived before the DELE; it stays on the server, the others are deleted,
# and the run says so: exit 65 and a line naming the account and the
# refused delete (also when another message could not be copied: one line
# says both).  The next run stores nothing twice and deletes it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

mapfile -t files < <(corpus_small "$CORPUS_DIR")
files=("${files[@]:0:8}")
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"

# 1. DELE 3 refused, and RETR 6 refused too.
hostile_start --err-on-dele 3 message is locked --err-on-retr 6
acct="hostile@$HOST:$HP_PORT"
hostile_backup --delete --json
expect_rc 65 "backup with DELE 3 and RETR 6 refused"
json_check "$PV_OUT" "j['accounts'][0]['stored'] == 7 and j['accounts'][0]['deleted'] == 6 and j['accounts'][0]['failed'] == 1" \
	"7 stored, 6 deleted, 1 failed"
assert_grep "$HP_LOG" '^1 !DELE-REFUSED 3$' "the server refused DELE 3"
assert_grep "$HP_LOG" '^1 QUIT$' "QUIT commits the other deletions"
assert_no_grep "$HP_LOG" "DELE 6" "DELE of the message not copied"
assert_grep "$PV_ERR" "DELE 3: -ERR message is locked" "stderr quotes the refusal"
assert_grep "$PV_ERR" "^popvault: account $acct: 1 message\(s\) could not be copied and were left on the server; the server refused to delete 1 archived message" \
	"stderr names the account, the message not copied and the refused delete"
hostile_nothing_lost "$TEST_TMP/expected" "the refused DELE and RETR"
hashes_of "${files[@]:0:5}" "${files[@]:6}" >"$TEST_TMP/copied"
assert_same_set "$TEST_TMP/copied" "$TEST_TMP/archive.hashes" "archive"
hashes_of "${files[2]}" "${files[5]}" >"$TEST_TMP/both"
hostile_hashes >"$TEST_TMP/left"
assert_same_set "$TEST_TMP/both" "$TEST_TMP/left" "messages left on the server"
assert_state_settled 7 "after the refused DELE"
# Only what the server deleted is marked deleted: not message 3.
assert_eq 6 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE deleted_at > 0")" \
	"rows marked deleted after the refused DELE"
hostile_stop

# 2. Left on the server: old 3 is now message 1 (archived), old 6 message 2.
# DELE 1 refused again; message 2 is archived and deleted.
hostile_start --err-on-dele 1
hostile_backup --delete --json
expect_rc 65 "second run, DELE refused again"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == 1 and j['accounts'][0]['stored'] == 1 and j['accounts'][0]['deleted'] == 1 and j['accounts'][0]['failed'] == 0" \
	"second run: the message not copied before is stored and deleted"
assert_no_grep "$HP_LOG" "RETR 1" "RETR of the archived message"
assert_grep "$PV_ERR" "^popvault: account $acct: the server refused to delete 1 archived message\(s\)" \
	"stderr names the account and the refused delete"
hostile_nothing_lost "$TEST_TMP/expected" "the second refused DELE"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive"
assert_eq "$(hashes_of "${files[2]}")" "$(hostile_hashes)" "the message left on the server"
assert_state_settled 8 "after the second run"
nvol=$(archive_volumes "$ARCH" | wc -l)
hostile_stop

# 3. Without the fault: nothing fetched or stored, the last one deleted.
hostile_start
hostile_backup --delete --json
expect_rc 0 "re-run without the fault"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == 0 and j['accounts'][0]['stored'] == 0 and j['accounts'][0]['deleted'] == 1" \
	"re-run: nothing fetched, the message left deleted"
assert_grep "$HP_LOG" '^1 DELE 1$' "the re-run deletes the message left"
assert_no_grep "$HP_LOG" "RETR" "RETR of an archived message"
assert_eq "$nvol" "$(archive_volumes "$ARCH" | wc -l)" "volumes after the re-run"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
assert_eq 8 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE deleted_at > 0")" \
	"rows marked deleted"
assert_state_settled 8 "after the re-run"
exit 0
