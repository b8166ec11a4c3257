# One run, five accounts from a config file: a good one, one trusting the
# wrong CA, one on pop3:// to a server without STLS, one on a closed port,
# one with a wrong password.  Each failure is one line naming its account;
# the good account is backed up completely all the same; the exit status
# is the most severe (TLS: 76); the state records each account's outcome.
. "$IT_DIR/lib.sh"

pw=pw-mixed-$RANDOM$RANDOM
good=$(new_account good "$pw")
other=$(new_account other "pw-other-$RANDOM$RANDOM")
mapfile -t files < <(corpus_files)
seed "$good" "${files[@]:0:8}"
seed "$other" "${files[@]:8:2}"
hashes_of "${files[@]:0:8}" >"$TEST_TMP/expected"
closed=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$TEST_TMP/config" <<EOF
defaults
archive $ARCH
state $STATE
cafile $CA_FILE
timeout 10s

account wrongca
from pop3s://$good@$HOST:$POP3S_PORT
cafile $WRONG_CA_FILE

account nostls
from pop3://$good@$HOST:$POP3_NOTLS_PORT

account closed
from pop3s://$good@$HOST:$closed

account badpw
from pop3s://$other@$HOST:$POP3S_PORT

account good
from pop3s://$good@$HOST:$POP3S_PORT
EOF
POPVAULT_PASSWORD=$pw run_pv -C "$TEST_TMP/config" backup --json
expect_rc 76 "the most severe failure (TLS) decides the exit status"
for a in wrongca nostls closed badpw; do
	[ "$(grep -c "^popvault: account $a: " "$PV_ERR")" = 1 ] ||
		fail "expected exactly one line for account $a on stderr"
done
json_check "$PV_OUT" '{a["account"]: a["status"] for a in j["accounts"]} == {"wrongca": "tls", "nostls": "tls", "closed": "net", "badpw": "auth", "good": "ok"}' \
	"per-account status in the JSON summary"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive of the good account"
assert_eq 8 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE account = 'good' AND state = 1")" \
	"good account's done rows"
assert_eq 0 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE account <> 'good'")" \
	"rows for the failed accounts"
assert_eq "auth" "$(sql "$STATE" "SELECT code FROM run_accounts WHERE account = 'badpw'")" \
	"badpw's outcome in the state"
exit 0
