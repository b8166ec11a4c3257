# A 200 MB message: archived byte-exact, and the process does not grow by
# anything like 200 MB (the message is spooled to a file, not held).
. "$IT_DIR/lib.sh"

[ -x /usr/bin/time ] || skip "/usr/bin/time (package time) is not installed"
u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
big=$TEST_TMP/big.eml
"$PYTHON" - "$big" <<'PY'
import sys
line = (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" * 1
        + b"\r\n")
with open(sys.argv[1], "wb") as f:
    f.write(b"From: big@example.com\r\nTo: a@example.com\r\n"
            b"Subject: a very large attachment\r\n"
            b"Message-ID: <big.1@example.com>\r\n"
            b"Date: Mon, 4 Mar 2024 10:00:00 +0100\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n")
    chunk = line * 16384
    n = 0
    while n < 200 * 1024 * 1024:
        f.write(chunk)
        n += len(chunk)
PY
small=$(corpus_files | head -n 2)
# shellcheck disable=SC2086
seed "$u" $small "$big"

# Under ASan, freed memory sits in a 256 MB quarantine and counts as RSS;
# libcurl frees OpenSSL's record buffers after every read
# (SSL_MODE_RELEASE_BUFFERS), so the sanitizer build would measure the
# quarantine, not us.  A small one keeps the check meaningful there too;
# plain builds ignore the variable.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
PV_N=1
/usr/bin/time -f '%M' -o "$TEST_TMP/rss" timeout 300 "$POPVAULT" backup \
	--archive "$ARCH" --state "$STATE" --cafile "$CA_FILE" \
	--compress none --from "$(url_pop3s "$u")" \
	</dev/null >"$TEST_TMP/out" 2>"$TEST_TMP/err"
rc=$?
show "$TEST_TMP/err" 10
assert_eq 0 "$rc" "exit status"
rss_kb=$(tail -n 1 "$TEST_TMP/rss")
log "peak RSS: $rss_kb KB for a $(($(stat -c %s "$big") / 1048576)) MB message"
[ "$rss_kb" -lt 65536 ] || fail "peak RSS $rss_kb KB: the message was held in memory"
archive_check "$ARCH"
# shellcheck disable=SC2086
hashes_of $small "$big" >"$TEST_TMP/expected"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive"
exit 0
