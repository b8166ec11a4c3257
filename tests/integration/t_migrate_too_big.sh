# A 2 MiB message among small ones, to a target with APPENDLIMIT=1 MiB
# (dovecot.sh): migrate --delete exits 65, names the big one as too big on
# stderr, uploads the others and deletes them from the POP3 server; the big
# one stays on the server.  A second run: the same, nothing duplicated.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

a=$(new_account a)
t=$(new_account t)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
small=("${all[@]:0:6}")
big=$TEST_TMP/big.eml
"$PYTHON" - "$big" <<'PYEOF'
import sys
lines = [b"Received: from relay.example.net by mx.example.org; Tue, 05 Mar 2024 10:00:00 +0100",
         b"From: Big Sender <big@example.net>",
         b"To: someone@example.org",
         b"Subject: a 2 MiB message",
         b"Date: Tue, 05 Mar 2024 09:59:00 +0100",
         b"Message-ID: <too-big-2mib.1@example.net>",
         b"MIME-Version: 1.0",
         b"Content-Type: text/plain; charset=us-ascii",
         b""]
body = b"\r\n".join(lines) + b"\r\n"
row = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n"
body += row * ((2 * 1024 * 1024 - len(body)) // len(row) + 1)
open(sys.argv[1], "wb").write(body)
PYEOF
big_sha=$(sha256sum <"$big" | cut -d' ' -f1)
seed "$a" "${small[@]:0:3}" "$big" "${small[@]:3}"
hashes_of "${small[@]}" >"$TEST_TMP/expected"
POPVAULT_PASSWORD=$(password_of "$a")
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
export POPVAULT_PASSWORD POPVAULT_TARGET_PASSWORD
from=$(url_pop3s "$a")
to=$(url_imaps "$t" Big)

check_run() {
	expect_rc 65 "$1"
	# The line that says "too big" names the message: its Message-ID or
	# its sha256 (or a prefix of 12 or more hex digits).
	grep -iE 'too (big|large)' "$PV_ERR" >"$TEST_TMP/toobig" || {
		show "$PV_ERR"
		fail "$1: stderr does not say too big"
	}
	grep -qE "too-big-2mib\.1@example\.net|${big_sha:0:12}" "$TEST_TMP/toobig" || {
		show "$TEST_TMP/toobig"
		fail "$1: the too-big line does not name the message"
	}
	imap_dump "$t" Big "$TEST_TMP/dump"
	assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/dump" "$1: folder"
	maildir_hashes "$a" >"$TEST_TMP/left"
	assert_eq "$big_sha" "$(cat "$TEST_TMP/left")" "$1: what is left on the POP3 server"
}

migrate --delete --from "$from" --to "$to" --json
check_run "migrate --delete with a message over APPENDLIMIT"
json_check "$PV_OUT" "not j['ok'] and j['exit'] == 65 and j['accounts'][0]['failed'] == 1 and j['accounts'][0]['uploaded'] == 6 and j['accounts'][0]['deleted'] == 6" \
	"JSON: 1 failed, 6 uploaded and deleted"

migrate --delete --from "$from" --to "$to"
check_run "second run"
exit 0
