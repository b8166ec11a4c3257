# The IMAP target answers the 2nd APPEND of a migrate --delete with BAD:
# exit 76 (docs/HACKING.md: BAD is PV_EPROTO, account scope), the message
# and every later one stay on the POP3 server.  Restarted without the fault,
# a second migrate --delete converges: each message once in the folder, the
# POP3 mailbox empty.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

a=$(new_account a)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
files=("${all[@]:0:5}")
seed "$a" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
hashes_of "${files[@]:1}" >"$TEST_TMP/from2"
POPVAULT_PASSWORD=$(password_of "$a")
export POPVAULT_PASSWORD
from=$(url_pop3s "$a")

himap_start --bad-append 2
himap_migrate --delete --from "$from" --to "$(himap_url Bad)"
expect_rc 76 "migrate with APPEND 2 answered BAD"
assert_grep "$HI_LOG" '^1 !BAD 2$' "the 2nd APPEND was answered BAD"
maildir_hashes "$a" >"$TEST_TMP/left"
assert_subset "$TEST_TMP/from2" "$TEST_TMP/left" "messages from the BAD on kept on POP3"
himap_hashes Bad >"$TEST_TMP/stored"
[ -z "$(uniq -d "$TEST_TMP/stored")" ] || fail "a message stored twice"
himap_stop

himap_start
himap_migrate --delete --from "$from" --to "$(himap_url Bad)"
expect_rc 0 "re-run without the fault"
assert_himap_exactly "$TEST_TMP/expected" Bad "folder after the re-run"
assert_eq 0 "$(maildir_count "$a")" "messages left on the POP3 server"
exit 0
