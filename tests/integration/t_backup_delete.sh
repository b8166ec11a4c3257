# --delete empties the mailbox, and only after every message is archived.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
mapfile -t files < <(corpus_files)
seed "$u" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
url=$(url_pop3s "$u")
mkdir -p "$ARCH"

backup --json --delete --from "$url"
expect_rc 0 "backup --delete"
json_check "$PV_OUT" "j['accounts'][0]['deleted'] == 60" "deleted count"
assert_eq 0 "$(maildir_count "$u")" "messages left on the server"

archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive"
assert_state_sane "$STATE"
assert_eq 0 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE deleted_at IS NULL OR deleted_at = 0")" \
	"rows not marked deleted"

# Nothing left: a further run succeeds and does nothing.
backup --json --delete --from "$url"
expect_rc 0 "run on the empty mailbox"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == 0 and j['accounts'][0]['deleted'] == 0" \
	"run on the empty mailbox"
exit 0
