# The server's certificate as a man in the middle might present it (the
# fault proxy terminating TLS in front of Dovecot's POP3S port): a
# certificate for another name, signed by the trusted test CA; a
# self-signed one; the right certificate with a --pinnedkey that is not its
# key.  Each is refused (76) before a credential crosses, and nothing is
# fetched.  Trusting the self-signed certificate explicitly (--cafile) and
# pinning the right key both work.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
mapfile -t files < <(corpus_small | head -n 5)
seed "$u" "${files[@]}"
mkdir -p "$ARCH"
tls=$DOVECOT_DIR/tls
c=$TEST_TMP/certs
mkdir -p "$c"

# A certificate for mail.example.org only, from the test CA.
openssl req -new -newkey rsa:2048 -nodes -subj /CN=mail.example.org \
	-keyout "$c/other.key" -out "$c/other.csr" 2>/dev/null || fail "openssl req"
printf 'subjectAltName=DNS:mail.example.org\nextendedKeyUsage=serverAuth\n' >"$c/other.ext"
openssl x509 -req -in "$c/other.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
	-CAcreateserial -days 30 -extfile "$c/other.ext" -out "$c/other.pem" 2>/dev/null ||
	fail "openssl x509 (other name)"
# A self-signed certificate for the right address.
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1 \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$c/self.key" -out "$c/self.pem" 2>/dev/null || fail "openssl req -x509"
pin_of() {
	printf 'sha256//%s' "$(openssl x509 -in "$1" -pubkey -noout |
		openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)"
}

# refused WHAT CERT KEY BACKUP_ARGS...: 76, nothing past the handshake.
refused() {
	local what=$1 cert=$2 key=$3
	shift 3
	proxy_start "$POP3S_PORT" --proto pop3 --tls-in "$cert" "$key" --tls-out "$CA_FILE"
	STATE=$TEST_TMP/state-$PX_N.db
	backup --from "pop3s://$u@$HOST:$PX_PORT" "$@"
	expect_rc 76 "$what"
	assert_grep "$PV_ERR" "$u@$HOST:$PX_PORT: " "$what: stderr names the account"
	assert_grep "$PV_ERR" "certificate|TLS|SSL|pinned|public key" "$what: stderr says why"
	grep -q ' C ' "$PX_LOG" && {
		show "$PX_LOG"
		fail "$what: a command crossed the refused connection"
	}
	[ -z "$(archive_volumes "$ARCH")" ] || fail "$what: a volume was written"
	proxy_stop
}

refused "a certificate for another name" "$c/other.pem" "$c/other.key"
refused "a self-signed certificate" "$c/self.pem" "$c/self.key"
refused "the right certificate, another pinned key" "$tls/server.pem" "$tls/server.key" \
	--pinnedkey "$(pin_of "$c/self.pem")"

# Trusting the self-signed certificate explicitly works.
proxy_start "$POP3S_PORT" --proto pop3 --tls-in "$c/self.pem" "$c/self.key" --tls-out "$CA_FILE"
STATE=$TEST_TMP/state-self.db
run_pv backup --archive "$ARCH" --state "$STATE" --cafile "$c/self.pem" \
	--from "pop3s://$u@$HOST:$PX_PORT"
expect_rc 0 "the self-signed certificate given as --cafile"
proxy_stop
rm -rf "$ARCH"/*

# Pinning the right key works.
proxy_start "$POP3S_PORT" --proto pop3 "${PX_TLS[@]}"
STATE=$TEST_TMP/state-pin.db
backup --from "pop3s://$u@$HOST:$PX_PORT" --pinnedkey "$(pin_of "$tls/server.pem")"
expect_rc 0 "the right pinned key"
archive_check "$ARCH"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive"
exit 0
