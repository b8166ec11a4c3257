# Nothing listens on the port: EX_TEMPFAIL (75), promptly.
. "$IT_DIR/lib.sh"

port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=pop3s://nobody-here@127.0.0.1:$port
mkdir -p "$ARCH"
start=$(date +%s)
POPVAULT_PASSWORD=x backup --timeout 10 --from "$url"
expect_rc 75 "connection refused"
[ $(($(date +%s) - start)) -le 15 ] || fail "took longer than 15 s"
assert_grep "$PV_ERR" "popvault: account $(account_of "$url"):" \
	"error line naming the account"
assert_eq 0 "$(archive_volumes "$ARCH" | wc -l)" "volumes written"
exit 0
