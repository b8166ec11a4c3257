# migrate to imap:// (STARTTLS required): the IMAP login is over TLS, the
# default folder is INBOX, flags default to \Seen and --flags "" gives
# none.  A server without STARTTLS is refused (76) before any password.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

a=$(new_account a)
t=$(new_account t)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
files=("${all[@]:0:5}")
seed "$a" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
POPVAULT_PASSWORD=$(password_of "$a")
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
export POPVAULT_PASSWORD POPVAULT_TARGET_PASSWORD
from=$(url_pop3s "$a")

migrate --from "$from" --to "$(url_imap "$t")"
expect_rc 0 "migrate over STARTTLS"
imap_dump "$t" INBOX "$TEST_TMP/inbox"
assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/inbox" "INBOX (the default folder)"
if grep -v ' (\\Seen)$' "$TEST_TMP/inbox" | grep .; then
	fail "default flags are not (\\Seen)"
fi
sleep 0.3
grep -F "imap-login: " "$DOVECOT_LOG" | grep -F "Login: user=<$t>" >"$TEST_TMP/imap-logins"
# imapdump logs in over implicit TLS too: every IMAP login must say TLS.
[ -s "$TEST_TMP/imap-logins" ] || fail "no IMAP login of $t in the Dovecot log"
if grep -v TLS "$TEST_TMP/imap-logins"; then
	fail "an IMAP login of $t without TLS (above)"
fi

# --flags "": no flags at all (fresh state, another folder).
STATE=$TEST_TMP/state-noflags.db
migrate --from "$from" --to "$(url_imap "$t" NoFlags)" --flags ""
expect_rc 0 "migrate with --flags \"\""
imap_dump "$t" NoFlags "$TEST_TMP/noflags"
assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/noflags" "folder NoFlags"
if grep -v ' ()$' "$TEST_TMP/noflags" | grep .; then
	fail "--flags \"\" still set flags (above)"
fi

# imap:// to a server that offers no STARTTLS: refused, no password sent.
STATE=$TEST_TMP/state-notls.db
n_before=$(grep -c "passwd-file($t," "$DOVECOT_NOTLS_LOG")
migrate --from "$from" --to "imap://$t@$HOST:$IMAP_NOTLS_PORT/NoTLS"
expect_rc 76 "imap:// without STARTTLS on the server"
sleep 0.3
assert_eq "$n_before" "$(grep -c "passwd-file($t," "$DOVECOT_NOTLS_LOG")" \
	"password lookups of $t on the server without TLS"
exit 0
