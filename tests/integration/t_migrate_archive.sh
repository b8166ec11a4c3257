# migrate --archive --delete: the archive holds every message (volumes pass
# archive_check), the folder holds every message once, and only then is the
# POP3 mailbox emptied.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

a=$(new_account a)
t=$(new_account t)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
files=("${all[@]:0:15}")
seed "$a" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
POPVAULT_PASSWORD=$(password_of "$a")
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
export POPVAULT_PASSWORD POPVAULT_TARGET_PASSWORD
mkdir -p "$ARCH"

migrate --archive "$ARCH" --delete --from "$(url_pop3s "$a")" \
	--to "$(url_imaps "$t" Archived)" --json
expect_rc 0 "migrate --archive --delete"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive after migrate"
imap_dump "$t" Archived "$TEST_TMP/dump"
assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/dump" "folder after migrate"
assert_eq 0 "$(maildir_count "$a")" "left on the POP3 server"
json_check "$PV_OUT" "j['ok'] and j['accounts'][0]['uploaded'] == 15 and j['accounts'][0]['deleted'] == 15 and j['accounts'][0]['stored'] == 15 and j['accounts'][0]['volumes'] >= 1" \
	"JSON: 15 uploaded, stored and deleted"
assert_state_sane "$STATE"
exit 0
