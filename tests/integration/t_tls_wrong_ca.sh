# A server certificate from a CA we do not trust: EX_PROTOCOL (76), for
# implicit TLS and for STLS, and the password is never sent.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
seed "$u" $(corpus_files | head -n 3)
mkdir -p "$ARCH"

for url in "$(url_pop3s "$u")" "$(url_stls "$u")"; do
	run_pv backup --archive "$ARCH" --state "$STATE" \
		--cafile "$WRONG_CA_FILE" --from "$url"
	expect_rc 76 "$url with the wrong CA"
	assert_grep "$PV_ERR" "popvault: account $(account_of "$url"):" \
		"error line naming the account"
done
assert_eq 0 "$(archive_volumes "$ARCH" | wc -l)" "volumes written"
assert_eq 3 "$(maildir_count "$u")" "messages on the server"
sleep 0.5
assert_no_grep "$DOVECOT_LOG" "passwd-file($u," "Dovecot saw a login attempt"
exit 0
