# The server stops sending in the middle of a message and keeps the socket
# open: with --timeout 3s popvault gives up within about 10 s, exit 75, no
# QUIT, nothing deleted; the re-run without the fault converges.
. "$IT_DIR/lib.sh"

mapfile -t files < <(corpus_files)
files=("${files[@]:0:12}")
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"

hostile_start --stall-in-retr 4
t0=$(date +%s)
hostile_backup --delete --timeout 3s
secs=$(($(date +%s) - t0))
log "gave up after ${secs}s"
expect_rc 75 "backup against a stalled RETR"
[ "$secs" -le 10 ] || fail "took ${secs}s to give up with --timeout 3s"
assert_grep "$PV_ERR" "hostile@$HOST:$HP_PORT" "stderr names the account"
assert_grep "$HP_LOG" '^1 !STALL$' "the server stalled"
assert_no_grep "$HP_LOG" "QUIT" "QUIT after the stall"
assert_no_grep "$HP_LOG" "DELE" "DELE in the stalled session"
assert_eq 12 "$(hostile_count)" "messages left on the server"
hostile_nothing_lost "$TEST_TMP/expected" "the stall"
hostile_stop

hostile_start
hostile_backup --delete
expect_rc 0 "re-run without the fault"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
exit 0

