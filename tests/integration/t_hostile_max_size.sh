# --max-size in a --delete run: a message whose LIST size is over the limit
# is neither fetched nor deleted, and named on stderr (account, message,
# size); one exactly at the limit is copied.  The decision is LIST's size:
# a server that overstates a small message's size keeps it on the server
# too (safe).  Exit 65; the re-run with a larger limit converges.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

mkdir -p "$HP_DIR" "$ARCH"
"$PYTHON" - "$HP_DIR" <<'PYEOF' || fail "cannot write the messages"
import os, sys
box = sys.argv[1]
# name -> exact size in bytes
sizes = {"m1": 1000, "m2": 20000, "m3": 20001, "m4": 12000, "m5": 100000,
         "m6": 5000}
for name, size in sizes.items():
    head = (b"From: a@example.org\r\nSubject: %d bytes\r\n"
            b"Message-ID: <%s@example.org>\r\n\r\n" % (size, name.encode()))
    body = b"".join(b"%s line %06d\r\n" % (name.encode(), i)
                    for i in range(size // 16 + 1))
    data = (head + body)[:size - 2] + b"\r\n"
    assert len(data) == size
    with open(os.path.join(box, name + ".eml"), "wb") as f:
        f.write(data)
PYEOF
mapfile -t files < <(find "$HP_DIR" -name '*.eml' | sort)
hashes_of "${files[@]}" >"$TEST_TMP/expected"
hashes_of "${files[2]}" "${files[3]}" "${files[4]}" >"$TEST_TMP/over"
hashes_of "${files[0]}" "${files[1]}" "${files[5]}" >"$TEST_TMP/under"

# Message 4 (12,000 bytes) is listed as 24,017.
hostile_start --list-size-lie 4
hostile_backup --delete --json --max-size 20000
expect_rc 65 "backup with messages over --max-size"
json_check "$PV_OUT" "j['accounts'][0]['stored'] == 3 and j['accounts'][0]['deleted'] == 3 and j['accounts'][0]['failed'] == 3" \
	"3 stored and deleted, 3 failed"
acct="hostile@$HOST:$HP_PORT"
assert_grep "$PV_ERR" "^popvault: account $acct: message 3 .* is 20001 bytes, over max_size 20000: not copied, left on the server" \
	"stderr names message 3"
assert_grep "$PV_ERR" "^popvault: account $acct: message 4 .* is 24017 bytes, over max_size" \
	"stderr names message 4 (LIST's size)"
assert_grep "$PV_ERR" "^popvault: account $acct: message 5 .* is 100000 bytes, over max_size" \
	"stderr names message 5"
assert_grep "$PV_ERR" "^popvault: account $acct: 3 message\(s\) could not be copied and were left on the server" \
	"stderr: the account's outcome"
for k in 3 4 5; do
	! grep -Eq "^1 (RETR|DELE) $k\$" "$HP_LOG" ||
		fail "message $k (over --max-size) was fetched or deleted"
done
hostile_nothing_lost "$TEST_TMP/expected" "--max-size"
assert_same_set "$TEST_TMP/under" "$TEST_TMP/archive.hashes" "archive"
hostile_hashes >"$TEST_TMP/left"
assert_same_set "$TEST_TMP/over" "$TEST_TMP/left" "messages left on the server"
assert_state_settled 3 "after --max-size"
hostile_stop

hostile_start
hostile_backup --delete --json --max-size 1M
expect_rc 0 "re-run with a larger --max-size"
json_check "$PV_OUT" "j['accounts'][0]['stored'] == 3 and j['accounts'][0]['deleted'] == 3" \
	"re-run stored and deleted the 3 left"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
assert_state_settled 6 "after the re-run"
exit 0
