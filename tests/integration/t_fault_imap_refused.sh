# The IMAP target refuses the 2nd APPEND of a migrate --delete with
# "NO [CANNOT] refused content": exit 65, stderr names that message and the
# server's text, the others are in the folder and deleted from the POP3
# server; the refused one stays there.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

a=$(new_account a)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
files=("${all[@]:0:5}")
seed "$a" "${files[@]}"
refused=${files[1]}
refused_sha=$(sha256sum <"$refused" | cut -d' ' -f1)
refused_mid=$(grep -aim1 '^Message-ID:' "$refused" | sed 's/^[^:]*:[[:space:]]*//; s/\r$//')
log "refused message: $refused_sha $refused_mid"
hashes_of "${files[0]}" "${files[@]:2}" >"$TEST_TMP/expected"
POPVAULT_PASSWORD=$(password_of "$a")
export POPVAULT_PASSWORD
from=$(url_pop3s "$a")

himap_start --no-append 2 "refused content"
himap_migrate --delete --from "$from" --to "$(himap_url Refused)" --json
expect_rc 65 "migrate with APPEND 2 refused"
grep -F 'refused content' "$PV_ERR" >"$TEST_TMP/refused-line" || {
	show "$PV_ERR"
	fail "stderr does not carry the server's text"
}
# The line names the message: its Message-ID, or its UIDL (Dovecot's
# %08Xu%08Xv: POP3 message 2 is UID 2), or its sha256 (a prefix of 12 or
# more hex digits).
mid=${refused_mid#<}
mid=${mid%>}
{ grep -qF -- "$mid" "$TEST_TMP/refused-line" ||
	grep -qiE "00000002[0-9a-f]{8}|${refused_sha:0:12}" "$TEST_TMP/refused-line"; } || {
	show "$TEST_TMP/refused-line"
	fail "the refusal line does not name the message"
}
assert_himap_exactly "$TEST_TMP/expected" Refused "folder after the refusal"
maildir_hashes "$a" >"$TEST_TMP/left"
assert_eq "$refused_sha" "$(cat "$TEST_TMP/left")" "what is left on the POP3 server"
json_check "$PV_OUT" "not j['ok'] and j['exit'] == 65 and j['accounts'][0]['failed'] == 1 and j['accounts'][0]['uploaded'] == 4 and j['accounts'][0]['deleted'] == 4" \
	"JSON: 1 failed, 4 uploaded and deleted"
exit 0
