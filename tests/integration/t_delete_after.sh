# --delete-after: a message is deleted on the server only once it was
# first fetched at least that long ago, and only if it is archived.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
mapfile -t files < <(corpus_files | head -n 10)
seed "$u" "${files[@]}"
url=$(url_pop3s "$u")

backup --delete-after 30d --from "$url"
expect_rc 0 "first run"
assert_eq 10 "$(maildir_count "$u")" "on the server after a 30d retention run"
archive_check "$ARCH"
hashes_of "${files[@]}" >"$TEST_TMP/first"
assert_same_set "$TEST_TMP/first" "$TEST_TMP/archive.hashes" "archive"

# Five new messages; the old ten are now older than 2 seconds.
mapfile -t more < <(corpus_files | sed -n '11,15p')
seed "$u" "${more[@]}"
sleep 3
backup --delete-after 2s --from "$url" --json
expect_rc 0 "second run"
json_check "$PV_OUT" 'j["accounts"][0]["fetched"] == 5' "5 new fetched"
json_check "$PV_OUT" 'j["accounts"][0]["deleted"] == 10' "the 10 old ones deleted"
assert_eq 5 "$(maildir_count "$u")" "left on the server: the 5 fetched just now"
assert_eq 10 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE deleted_at > 0")" \
    "rows recorded as deleted"

sleep 3
backup --delete-after 2s --from "$url"
expect_rc 0 "third run"
assert_eq 0 "$(maildir_count "$u")" "left on the server after they aged too"
archive_check "$ARCH"
hashes_of "${files[@]}" "${more[@]}" >"$TEST_TMP/all"
assert_same_set "$TEST_TMP/all" "$TEST_TMP/archive.hashes" "archive at the end"
exit 0
