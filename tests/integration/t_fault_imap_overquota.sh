# The IMAP target answers "NO [OVERQUOTA]" from the 3rd APPEND of a migrate
# --delete on: exit 74 (docs/HACKING.md: OVERQUOTA is PV_EIO, account
# scope, like a full disk), stderr says quota, messages 1-2 are in the
# folder, and nothing from the quota point on is deleted from POP3.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

a=$(new_account a)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
files=("${all[@]:0:6}")
seed "$a" "${files[@]}"
hashes_of "${files[@]:0:2}" >"$TEST_TMP/first2"
hashes_of "${files[@]:2}" >"$TEST_TMP/rest"
POPVAULT_PASSWORD=$(password_of "$a")
export POPVAULT_PASSWORD
from=$(url_pop3s "$a")

himap_start --overquota-append 3
himap_migrate --delete --from "$from" --to "$(himap_url Full)" --json
expect_rc 74 "migrate into a target over quota"
assert_grep "$PV_ERR" 'the target is over its quota' "stderr says over quota in our own words (not only the server's text)"
assert_grep "$HI_LOG" '^1 !OVERQUOTA 3$' "the 3rd APPEND was refused"
assert_himap_exactly "$TEST_TMP/first2" Full "folder: the messages before the quota"
maildir_hashes "$a" >"$TEST_TMP/left"
assert_subset "$TEST_TMP/rest" "$TEST_TMP/left" "messages from the quota point on kept on POP3"
json_check "$PV_OUT" "not j['ok'] and j['exit'] == 74" "JSON: exit 74"
exit 0
