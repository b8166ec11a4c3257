# A man in the middle (the fault proxy, not terminating TLS) against the
# promise that no secret or mail crosses the network in the clear:
#  - STLS stripped from CAPA, STLS refused, bytes injected right after
#    "+OK Begin TLS" (pop3://); STARTTLS stripped, refused, or followed by
#    injected bytes on the IMAP target (migrate to imap://): each stops the
#    run (76) before any credential is sent, and nothing is fetched;
#  - a byte flipped in the TLS stream (pop3s://), in the handshake and in
#    the middle of the mail: the run stops, nothing altered is recorded,
#    nothing is deleted that is not archived, and a re-run converges.
# Every byte the proxy relayed is searched for the passwords (and their
# SASL base64 forms): never there.
. "$IT_DIR/lib.sh"

a=$(new_account a)
t=$(new_account t)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
files=("${all[@]:0:20}")
seed "$a" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
export POPVAULT_PASSWORD POPVAULT_TARGET_PASSWORD
POPVAULT_PASSWORD=$(password_of "$a")
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
mkdir -p "$ARCH"

# clear_only LOG WHAT ALLOWED...: the commands the proxy saw in the clear
# are among ALLOWED (no USER, PASS, AUTH, LOGIN, AUTHENTICATE).
clear_only() {
	local log=$1 what=$2 cmds
	shift 2
	cmds=$(sed -n 's/^[0-9]* C //p' "$log" | awk '{print ($1 ~ /^[A-Z]+$/) ? $1 : $2}' |
		sort -u | tr '\n' ' ')
	for c in $cmds; do
		case " $* " in
		*" $c "*) ;;
		*) fail "$what: '$c' was sent in the clear (commands seen: $cmds)" ;;
		esac
	done
}

nothing_sent() {
	clear_only "$PX_LOG" "$1" "$2" "$3"
	assert_no_secret "$POPVAULT_PASSWORD" "$a" "$PX_WIRE"
	assert_no_secret "$POPVAULT_TARGET_PASSWORD" "$t" "$PX_WIRE"
	assert_eq 20 "$(maildir_count "$a")" "$1: messages on the server"
	[ -z "$(archive_volumes "$ARCH")" ] || fail "$1: a volume was written"
}

# ---- POP3 STLS (pop3:// requires it) ----
proxy_start "$POP3_PORT" --proto pop3 --strip-cap STLS
backup --delete --from "pop3://$a@$HOST:$PX_PORT"
expect_rc 76 "STLS stripped from CAPA"
assert_grep "$PV_ERR" "$a@$HOST:$PX_PORT: .*does not offer STLS" "stderr says STLS is missing"
assert_grep "$PX_LOG" '^1 !STRIP STLS' "the proxy stripped STLS"
nothing_sent "STLS stripped" CAPA QUIT

proxy_start "$POP3_PORT" --proto pop3 --refuse-starttls
backup --delete --from "pop3://$a@$HOST:$PX_PORT"
expect_rc 76 "STLS refused"
assert_grep "$PV_ERR" "$a@$HOST:$PX_PORT: .*refused STLS" "stderr says STLS was refused"
nothing_sent "STLS refused" CAPA STLS QUIT

proxy_start "$POP3_PORT" --proto pop3 \
	--inject-after-starttls '+OK injected\r\n+OK Logged in.\r\n'
backup --delete --from "pop3://$a@$HOST:$PX_PORT"
expect_rc 76 "bytes injected after +OK Begin TLS"
assert_grep "$PX_LOG" '^1 !INJECT' "the proxy injected"
assert_grep "$PV_ERR" "$a@$HOST:$PX_PORT: .*unexpected reply .*STLS" "stderr says why"
nothing_sent "injection after STLS" CAPA STLS

# The same path without a fault: STLS, then everything over TLS.
proxy_start "$POP3_PORT" --proto pop3
backup --from "pop3://$a@$HOST:$PX_PORT"
expect_rc 0 "pop3:// with STLS through the proxy"
clear_only "$PX_LOG" "STLS" CAPA STLS
assert_no_secret "$POPVAULT_PASSWORD" "$a" "$PX_WIRE"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive over STLS"
# No message crossed in the clear either: a line of each would show.
for f in "${files[@]:0:5}"; do
	id=$(grep -a -m1 -i '^Message-ID:' "$f" | tr -d '\r')
	[ -z "$id" ] || assert_no_grep "$PX_WIRE" "$id" "a message header on the wire"
done
rm -rf "$ARCH" "$STATE"
mkdir -p "$ARCH"

# ---- IMAP STARTTLS on the migration target (imap:// requires it) ----
for fault in strip refuse inject; do
	case $fault in
	strip) proxy_start "$IMAP_PORT" --proto imap --strip-cap STARTTLS ;;
	refuse) proxy_start "$IMAP_PORT" --proto imap --refuse-starttls ;;
	inject) proxy_start "$IMAP_PORT" --proto imap --inject-after-starttls \
		'* OK injected\r\nA002 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] done\r\n' ;;
	esac
	STATE=$TEST_TMP/state-imap$PX_N.db
	migrate --from "$(url_pop3s "$a")" --to "imap://$t@$HOST:$PX_PORT/Moved"
	expect_rc 76 "IMAP target, $fault"
	assert_grep "$PV_ERR" "$HOST:$PX_PORT: .*STARTTLS" "stderr says why ($fault)"
	clear_only "$PX_LOG" "IMAP target, $fault" CAPABILITY STARTTLS LOGOUT
	assert_no_secret "$POPVAULT_TARGET_PASSWORD" "$t" "$PX_WIRE"
	assert_eq 20 "$(maildir_count "$a")" "$fault: messages on the POP3 server"
done

# ---- a byte flipped inside TLS (pop3s://, the proxy relays bytes) ----
for at in 300 3000 60000; do
	STATE=$TEST_TMP/state-flip$at.db
	ARCH=$TEST_TMP/archive-flip$at
	mkdir -p "$ARCH"
	proxy_start "$POP3S_PORT" --flip "$at"
	backup --delete --from "pop3s://$a@$HOST:$PX_PORT"
	[ "$PV_RC" = 75 ] || [ "$PV_RC" = 76 ] ||
		fail "a flipped byte at $at: expected exit 75 or 76, got $PV_RC"
	assert_grep "$PX_LOG" "^1 !FLIP" "the proxy flipped byte $at"
	assert_grep "$PV_ERR" "$a@$HOST:$PX_PORT: " "stderr names the account"
	archive_check "$ARCH"
	assert_subset "$TEST_TMP/archive.hashes" "$TEST_TMP/expected" \
		"flip at $at: archived messages are originals"
	{
		maildir_hashes "$a"
		cat "$TEST_TMP/archive.hashes"
	} | sort -u >"$TEST_TMP/held"
	assert_subset "$TEST_TMP/expected" "$TEST_TMP/held" "flip at $at: nothing lost"
	assert_state_sane "$STATE"
	proxy_start "$POP3S_PORT"
	backup --from "pop3s://$a@$HOST:$PX_PORT"
	expect_rc 0 "the re-run after a flip at $at"
	archive_check "$ARCH"
	assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "flip at $at: archive"
done
exit 0
