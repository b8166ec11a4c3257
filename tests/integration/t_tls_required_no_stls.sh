# pop3:// means STLS is required: a server that does not offer it fails with
# EX_PROTOCOL (76) before any credentials are sent.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
seed "$u" $(corpus_files | head -n 3)
url=$(url_notls "$u")
mkdir -p "$ARCH"

backup --from "$url"
expect_rc 76 "pop3:// to a server without STLS"
assert_grep "$PV_ERR" "popvault: account $(account_of "$url"):" \
	"error line naming the account"
assert_eq 0 "$(archive_volumes "$ARCH" | wc -l)" "volumes written"
sleep 0.5
# Dovecot logs a passdb lookup for every PASS/AUTH it receives.
assert_no_grep "$DOVECOT_NOTLS_LOG" "passwd-file($u," "the password was sent in the clear"
assert_no_grep "$DOVECOT_NOTLS_LOG" "$POPVAULT_PASSWORD" "the password was sent in the clear"
exit 0
