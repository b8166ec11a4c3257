# A slow but healthy link: every answer starts 300 ms late and flows at
# 20 KiB/s.  With --timeout 3s (silence, not duration, is what times out)
# a --delete run completes: exit 0, everything archived byte for byte, the
# mailbox empty; no false timeout.
. "$IT_DIR/lib.sh"

mapfile -t files < <(find "$CORPUS_DIR" -maxdepth 1 -name 'msg-*.eml' -size -6k | sort | head -n 6)
[ "${#files[@]}" -ge 5 ] || fail "too few small messages in the corpus"
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
log "$(cat "${files[@]}" | wc -c) bytes in ${#files[@]} messages"

hostile_start --slow 300 20480
t0=$(date +%s)
hostile_backup --delete --timeout 3s --connect-timeout 10s
secs=$(($(date +%s) - t0))
log "took ${secs}s"
expect_rc 0 "backup over a slow link"
hostile_nothing_lost "$TEST_TMP/expected" "the slow run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
assert_grep "$HP_LOG" " QUIT$" "the run ended with QUIT"
exit 0
