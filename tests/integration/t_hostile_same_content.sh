# Duplicates are decided by content (SHA-256 of the bytes), never by
# Message-ID (docs/ARCHIVE.md "Stored once").  In one mailbox, a --delete
# run: two different messages sharing one Message-ID and two without one
# are all stored; one content under three UIDLs is stored once (the copies
# are "ref" records in the manifest, one state row per UIDL) and all three
# are deleted.  The same bytes delivered again later are not stored again.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

mkdir -p "$HP_DIR" "$ARCH" "$TEST_TMP/msgs"
"$PYTHON" - "$TEST_TMP/msgs" <<'PYEOF' || fail "cannot write the messages"
import os, sys
out = sys.argv[1]

def m(subj, body, mid):
    h = (b"From: a@example.org\r\nTo: b@example.org\r\n"
         b"Date: Mon, 4 Mar 2024 10:00:00 +0100\r\nSubject: " + subj + b"\r\n")
    if mid is not None:
        h += b"Message-ID: " + mid + b"\r\n"
    return h + b"\r\n" + body + b"\r\n"

msgs = {
    "a-shared-id-1": m(b"one", b"first body", b"<same@example.org>"),
    "b-shared-id-2": m(b"two", b"second body", b"<same@example.org>"),
    "c-no-id-1": m(b"three", b"third body", None),
    "d-no-id-2": m(b"four", b"fourth body", None),
    "e-copy": m(b"copy", b"the same bytes", b"<copy@example.org>"),
}
for name, data in msgs.items():
    with open(os.path.join(out, name + ".eml"), "wb") as f:
        f.write(data)
PYEOF
m=$TEST_TMP/msgs
cp "$m"/*.eml "$HP_DIR/"
# The copy under three UIDLs (the server's UIDLs come from file names).
cp "$m/e-copy.eml" "$HP_DIR/f-copy.eml"
cp "$m/e-copy.eml" "$HP_DIR/g-copy.eml"
hashes_of "$m"/*.eml >"$TEST_TMP/expected"
assert_eq 5 "$(wc -l <"$TEST_TMP/expected")" "distinct contents"
copy=$(hashes_of "$m/e-copy.eml")

hostile_start
hostile_backup --delete --json
expect_rc 0 "backup --delete"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == 7 and j['accounts'][0]['stored'] == 5 and j['accounts'][0]['duplicates'] == 2 and j['accounts'][0]['deleted'] == 7" \
	"7 fetched, 5 stored, 2 duplicates, 7 deleted"
for k in 1 2 3 4 5 6 7; do
	assert_grep "$HP_LOG" "^1 DELE $k\$" "DELE of message $k"
done
assert_eq 0 "$(hostile_count)" "messages left on the server"
archive_check "$ARCH" # fails if a content is stored twice
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive"
assert_state_settled 7 "after the run"
assert_eq 3 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE $(sha_is "$copy")")" \
	"state rows of the copied content (one per UIDL)"
assert_eq 3 "$(sql "$STATE" "SELECT count(DISTINCT uidl) FROM messages WHERE $(sha_is "$copy")")" \
	"UIDLs of the copied content"
assert_eq 1 "$(sql "$STATE" "SELECT count(*) FROM blobs WHERE $(sha_is "$copy")")" \
	"blobs of the copied content"
assert_eq 2 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE message_id = 'same@example.org'")" \
	"rows with the shared Message-ID"
man=$(find "$TEST_TMP/extract" -name MANIFEST.popvault)
assert_eq 1 "$(grep -c "^m	stored	.*	$copy	" "$man")" "stored records of the copy"
assert_eq 2 "$(grep -c "^m	ref	.*	$copy	" "$man")" "ref records of the copy"
hostile_stop

# Delivered again: the same bytes under a new UIDL are a duplicate.
cp "$m/b-shared-id-2.eml" "$HP_DIR/h-again.eml"
hostile_start
hostile_backup --delete --json
expect_rc 0 "the same bytes again"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == 1 and j['accounts'][0]['stored'] == 0 and j['accounts'][0]['duplicates'] == 1 and j['accounts'][0]['deleted'] == 1" \
	"delivered again: a duplicate, deleted"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
assert_state_settled 8 "after the re-run"
exit 0
