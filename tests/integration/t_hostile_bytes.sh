# Message bytes a real server may hold, served byte for byte by the hostile
# server (dot-stuffed at every line start, nothing else changed): lines
# ".", "..", "...", ".x", ".<CR>x", a message that is only ".", "From "
# lines, NUL bytes, bare CR, bare LF (also right before a "." line), raw
# 8-bit header bytes, no final line end (the server adds CR LF, as Dovecot
# does: that is what it means), an empty message, 180,000 lines of dots
# across every read boundary.  Every member of the archive is exactly what
# the server meant after dot-unstuffing; a --delete run deletes them all
# without fetching again, and a re-run stores nothing new.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

mkdir -p "$HP_DIR" "$ARCH" "$TEST_TMP/meant"
"$PYTHON" - "$HP_DIR" "$TEST_TMP/meant" <<'PYEOF' || fail "cannot write the messages"
import os, sys
box, meant = sys.argv[1:3]
H = (b"From: a@example.org\r\nTo: b@example.org\r\n"
     b"Date: Mon, 4 Mar 2024 10:00:00 +0100\r\n")

def m(n, subj, body, mid=True):
    h = H + b"Subject: " + subj + b"\r\n"
    if mid:
        h += b"Message-ID: <bytes-%d@example.org>\r\n" % n
    return h + b"\r\n" + body

msgs = [
    m(1, b"dots", b".\r\n..\r\n...\r\n.x\r\n. \r\n..x\r\nend\r\n.\r\n"),
    b".\r\n",                       # a message that is one "." line
    b"..\r\n",                      # ... and one ".." line
    m(4, b"from", b"From me\r\nFrom \r\n>From you\r\nfrom\r\n"),
    m(5, b"nul", b"a\x00b\r\n\x00\r\n\x00.\x00\r\n"),
    b"X-Nul: \x00\x00\r\n" + m(6, b"nul header", b"body\r\n"),
    m(7, b"bare cr", b"a\rb\r\n\r\r\nc\r\r\r\n.\rx\r\n\r.\r\n"),
    m(8, b"bare lf", b"a\nb\r\nx\n.\r\nmore\r\n\n.\n..\r\nend\r\n"),
    m(9, b"\xe9\xff\xfe\x80 8-bit \xc3\xa9", b"caf\xe9 \xff\r\n"),
    m(10, b"no final line end", b"last line without CRLF"),
    m(11, b"ends with a bare CR", b"last\r"),
    b"",                            # an empty message
    b"\r\n",                        # one empty line
    b"\n",                          # one bare LF
    m(15, b"headers only, no blank line", b"")[:-2],
    m(16, b"no message-id, dots at the end", b"x\r\n.\r\n..\r\n", mid=False),
    m(17, b"dot storm", b"".join(
        [b".\r\n", b"..\r\n", b"...\r\n", b".x\r\n", b"\r\n", b"x\r\n"]
        * 30000)),
]
for i, data in enumerate(msgs, 1):
    with open(os.path.join(box, "m%02d.eml" % i), "wb") as f:
        f.write(data)
    # What the server means: the bytes, plus CR LF if they do not end
    # with one (the terminating ".\r\n" must start a line).
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    with open(os.path.join(meant, "m%02d.eml" % i), "wb") as f:
        f.write(data)
PYEOF
N=$(find "$HP_DIR" -name '*.eml' | wc -l)
hashes_of "$TEST_TMP"/meant/*.eml >"$TEST_TMP/expected"
assert_eq "$N" "$(wc -l <"$TEST_TMP/expected")" "distinct messages"

hostile_start
hostile_backup --json
expect_rc 0 "backup of the odd messages"
json_check "$PV_OUT" "j['accounts'][0]['stored'] == $N and j['accounts'][0]['failed'] == 0" \
	"every message stored"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive vs. what the server meant"
# Byte for byte too (equal hashes are equal bytes; say which one differs).
for f in "$TEST_TMP"/meant/*.eml; do
	h=$(hashes_of "$f")
	mem=$(find "$TEST_TMP/extract" -name "$h.eml" | head -n 1)
	[ -n "$mem" ] || fail "$(basename "$f") not in the archive"
	cmp "$f" "$mem" || fail "$(basename "$f") differs in the archive"
done
empty=$(hashes_of "$TEST_TMP/meant/m12.eml")
[ ! -s "$(find "$TEST_TMP/extract" -name "$empty.eml" | head -n 1)" ] ||
	fail "the empty message is not empty in the archive"
assert_state_settled "$N" "after the first run"
sql "$STATE" "SELECT sha256 || ' ' || size FROM messages" | sort >"$TEST_TMP/state.sizes"
for f in "$TEST_TMP"/meant/*.eml; do
	echo "$(hashes_of "$f") $(wc -c <"$f")"
done | sort >"$TEST_TMP/meant.sizes"
assert_same_set "$TEST_TMP/meant.sizes" "$TEST_TMP/state.sizes" "sizes recorded in the state"
nvol=$(archive_volumes "$ARCH" | wc -l)

hostile_backup --json --delete
expect_rc 0 "--delete run"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == 0 and j['accounts'][0]['deleted'] == $N" \
	"--delete run: nothing fetched, everything deleted"
assert_no_grep "$HP_LOG" "2 RETR" "RETR in the --delete run"
assert_eq 0 "$(hostile_count)" "messages left on the server"
assert_eq "$nvol" "$(archive_volumes "$ARCH" | wc -l)" "volumes after the --delete run"
hostile_stop

# The same messages delivered again (same bytes, new UIDLs): stored once.
rm -f "$HP_DIR"/*.eml
for f in "$TEST_TMP"/meant/*.eml; do
	cp "$f" "$HP_DIR/again-$(basename "$f")"
done
hostile_start
hostile_backup --json --delete
expect_rc 0 "the same bytes again"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == $N and j['accounts'][0]['stored'] == 0 and j['accounts'][0]['duplicates'] == $N and j['accounts'][0]['deleted'] == $N" \
	"the same bytes again: fetched, none stored, all deleted"
hostile_nothing_lost "$TEST_TMP/expected" "the same bytes again"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
exit 0
