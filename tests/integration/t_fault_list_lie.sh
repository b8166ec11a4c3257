# LIST reports a wrong size for one message: the bytes RETR delivers count,
# so the message is archived byte-exact and the run succeeds.
. "$IT_DIR/lib.sh"

mapfile -t files < <(corpus_files)
files=("${files[@]:0:12}")
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"

hostile_start --list-size-lie 3
hostile_backup --delete
expect_rc 0 "backup with a lying LIST"
hostile_nothing_lost "$TEST_TMP/expected" "the lying LIST"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
h=$(hashes_of "${files[2]}")
m=$(find "$TEST_TMP/extract" -name "$h.eml" | head -n 1)
[ -n "$m" ] || fail "message 3 not in the archive"
cmp "${files[2]}" "$m" || fail "message 3 differs in the archive"
hostile_stop

hostile_start
hostile_backup --delete
expect_rc 0 "re-run without the fault"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
exit 0

