# The server accepts the connection and never greets: with
# --connect-timeout 3s popvault gives up within about 10 s, exit 75 naming
# the account, nothing recorded, no volume written; the re-run against a
# server that speaks converges.
. "$IT_DIR/lib.sh"

mapfile -t files < <(corpus_small "$CORPUS_DIR")
files=("${files[@]:0:6}")
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"

hostile_start --no-greeting
t0=$(date +%s)
hostile_backup --delete --connect-timeout 3s --timeout 3s
secs=$(($(date +%s) - t0))
log "gave up after ${secs}s"
expect_rc 75 "backup against a server that never greets"
[ "$secs" -le 10 ] || fail "took ${secs}s to give up with --connect-timeout 3s"
assert_grep "$PV_ERR" "hostile@$HOST:$HP_PORT" "stderr names the account"
assert_grep "$HP_LOG" '^1 !SILENT$' "the server kept silent"
assert_eq 0 "$(archive_volumes "$ARCH" | wc -l)" "volumes written"
assert_eq 0 "$(sql "$STATE" "SELECT count(*) FROM messages")" "messages recorded"
assert_eq 6 "$(hostile_count)" "messages left on the server"
hostile_stop

hostile_start
hostile_backup --delete
expect_rc 0 "re-run against a server that greets"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
hostile_stop

# A restore whose IMAP target never greets gives up after its own
# --connect-timeout too (the silent server speaks no protocol at all).
hostile_start --no-greeting
t0=$(date +%s)
POPVAULT_TARGET_PASSWORD=x restore --archive "$ARCH" --allow-plaintext \
	--connect-timeout 2s --timeout 60s \
	--to "imap://hostile@$HOST:$HP_PORT/Back"
secs=$(($(date +%s) - t0))
log "restore gave up after ${secs}s"
expect_rc 75 "restore against a target that never greets"
[ "$secs" -le 8 ] || fail "took ${secs}s to give up with --connect-timeout 2s"
exit 0
