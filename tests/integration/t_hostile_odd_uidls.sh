# UIDLs RFC 1939 does not allow (0x21-0x7e, at most 70 characters), served
# by the hostile server: control bytes, a TAB, spaces, 200 characters, 8-bit
# bytes, a terminal escape, a path, SQL, percent signs, "-", two that differ
# only in case, a trailing space, exactly 1,000 bytes.  popvault keeps them
# as opaque bytes: stored (state: a blob, byte for byte; manifest:
# percent-encoded), never in a member or file name, never raw on the
# terminal.  Three it cannot keep (a NUL, a CR, 1,001 bytes) leave that
# message out: it stays on the server, exit 65.  Re-runs find every odd UIDL
# in the state again (nothing fetched or stored twice), --delete deletes
# exactly the stored ones, and with sane UIDLs the rest converges.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
rep() { printf "%${2}s" '' | tr ' ' "$1"; }

# K -> UIDL (hex); the rejected ones are written in hex directly.
declare -A U
U[1]=$(hex $'ctl\x01\x02\x7f-1')
U[2]=$(hex $'tab\tinside')
U[3]=$(hex 'space inside the uidl')
U[4]=$(hex "$(rep L 200)")
U[5]=$(hex $'\xe9t\xe9-\xff\xfe-8bit')
U[6]=$(hex '../../etc/x')
U[7]=$(hex "x'); DROP TABLE messages;--")
U[8]=$(hex $'\x1b[2J\x1b]0;pwned\x07esc')
U[9]=6e756c00696e73696465 # "nul<NUL>inside": refused
U[10]=$(hex '%00%2F-')
U[11]=$(hex '-')
U[12]=63720d696e73696465 # "cr<CR>inside": refused
U[13]=$(hex "$(rep Z 1001)")  # over POP3_UIDL_MAX (1000): refused
U[14]=$(hex "$(rep Y 1000)")
U[15]=$(hex 'Case')
U[16]=$(hex 'case')
U[17]=$(hex 'trailing ')
refused="9 12 13"
N=18 # message 18 keeps the server's own UIDL

mapfile -t files < <(corpus_small "$CORPUS_DIR")
files=("${files[@]:0:$N}")
mkdir -p "$HP_DIR" "$ARCH" "$TEST_TMP/cwd"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
[ "$(wc -l <"$TEST_TMP/expected")" = "$N" ] || fail "corpus messages are not distinct"

uidl_args=()
: >"$TEST_TMP/kept.uidl_sha" # "HEX sha256" of every message stored
: >"$TEST_TMP/kept.hashes"
for k in $(seq 1 17); do
	uidl_args+=(--uidl "$k" "${U[$k]}")
	case " $refused " in *" $k "*) continue ;; esac
	h=$(hashes_of "${files[$((k - 1))]}")
	echo "${U[$k]^^} $h" >>"$TEST_TMP/kept.uidl_sha"
	echo "$h" >>"$TEST_TMP/kept.hashes"
done
# Message 18: the server's own UIDL, from its file name.
h=$(hashes_of "${files[17]}")
u=$(printf '%s' "$(basename "${files[17]}")" | sha256sum | cut -c1-16)
echo "$(hex "$u" | tr 'a-f' 'A-F') $h" >>"$TEST_TMP/kept.uidl_sha"
echo "$h" >>"$TEST_TMP/kept.hashes"
sort -o "$TEST_TMP/kept.hashes" "$TEST_TMP/kept.hashes"
hashes_of "${files[8]}" "${files[11]}" "${files[12]}" >"$TEST_TMP/refused.hashes"

# Relative paths would land in the working directory: make it ours.
cd "$TEST_TMP/cwd" || fail "cd"
touch "$TEST_TMP/marker"

# no_raw_bytes FILE...: nothing but printable ASCII, TAB and LF.
no_raw_bytes() {
	"$PYTHON" - "$@" <<'EOF' || fail "control or 8-bit bytes of a UIDL reached the terminal"
import sys
bad = False
for f in sys.argv[1:]:
    data = open(f, "rb").read()
    for i, c in enumerate(data):
        if (c < 0x20 and c not in (9, 10)) or c >= 0x7f:
            print("    %s: byte 0x%02x at %d: %r" % (f, c, i, data[max(0, i - 20):i + 20]))
            bad = True
            break
sys.exit(1 if bad else 0)
EOF
}

# uidls_stored: the state's UIDLs and contents must be exactly the kept
# ones, byte for byte; the manifests of the volumes must say the same.
uidls_stored() {
	sql "$STATE" "SELECT hex(uidl) || ' ' || sha256 FROM messages WHERE state = 1" |
		sort >"$TEST_TMP/state.uidl_sha"
	sort "$TEST_TMP/kept.uidl_sha" >"$TEST_TMP/kept.sorted"
	assert_same_set "$TEST_TMP/kept.sorted" "$TEST_TMP/state.uidl_sha" \
		"(UIDL, content) pairs in the state ($1)"
	assert_eq blob "$(sql "$STATE" "SELECT DISTINCT typeof(uidl) FROM messages")" \
		"UIDLs stored as blobs ($1)"
	assert_eq ok "$(sql "$STATE" "PRAGMA integrity_check")" "state integrity ($1)"
	# Every manifest record, decoded, is one of the kept (UIDL, content).
	find "$TEST_TMP/extract" -name MANIFEST.popvault -print0 |
		xargs -0 -r "$PYTHON" -c '
import sys, urllib.parse
for f in sys.argv[1:]:
    for ln in open(f, "rb").read().decode("ascii").splitlines():
        if ln.startswith("m\t"):
            x = ln.split("\t")
            u = urllib.parse.unquote_to_bytes(x[3])
            print(u.hex().upper(), x[4])
' | sort -u >"$TEST_TMP/manifest.uidl_sha"
	assert_same_set "$TEST_TMP/kept.sorted" "$TEST_TMP/manifest.uidl_sha" \
		"(UIDL, content) records in the manifests ($1)"
}

# nothing_outside: no file but volumes in the archive directory, nothing
# new anywhere near it that a UIDL could have named.
nothing_outside() {
	local extra
	extra=$(find "$ARCH" -mindepth 1 | grep -Ev '/[A-Za-z0-9._@+-]+-[0-9]{8}T[0-9]{6}Z-[0-9]+\.tar\.gz$')
	[ -z "$extra" ] || fail "unexpected files in the archive directory: $extra"
	extra=$(find "$TEST_TMP/cwd" "$(dirname "$TEST_TMP")" -maxdepth 1 \
		-newer "$TEST_TMP/marker" \( -name x -o -name '*DROP*' -o -name etc \) 2>/dev/null)
	[ -z "$extra" ] || fail "a UIDL named a file: $extra"
	if [ -e "$TEST_TMP/etc" ] || [ -e "$(dirname "$TEST_TMP")/etc" ]; then
		fail "an etc directory appeared"
	fi
	[ -z "$(ls -A "$TEST_TMP/cwd")" ] || fail "files in the working directory: $(ls -A "$TEST_TMP/cwd")"
	# Member names are <account>/<sha256>.eml (archive_check); none holds
	# a piece of a UIDL.
	! grep -Eq 'etc|DROP|pwned|Case|case|LLLL|YYYY' "$TEST_TMP"/list.* ||
		fail "a member name holds a UIDL"
}

hostile_start "${uidl_args[@]}"

# 1. No --delete: the 15 usable UIDLs are stored, the 3 others left out.
hostile_backup --json
expect_rc 65 "backup with odd UIDLs"
json_check "$PV_OUT" "j['accounts'][0]['stored'] == 15 and j['accounts'][0]['failed'] == 3" \
	"15 stored, 3 failed"
assert_grep "$PV_ERR" "account hostile@$HOST:$HP_PORT: 3 message\(s\) missing" \
	"stderr names the account and the messages left out"
for k in $refused; do
	assert_grep "$PV_ERR" "UIDL: message $k: " "stderr names message $k"
done
no_raw_bytes "$PV_ERR" "$PV_OUT"
hostile_nothing_lost "$TEST_TMP/expected" "the first run"
assert_same_set "$TEST_TMP/kept.hashes" "$TEST_TMP/archive.hashes" "archive after the first run"
assert_eq "$N" "$(hostile_count)" "messages on the server without --delete"
uidls_stored "first run"
nothing_outside
nvol=$(archive_volumes "$ARCH" | wc -l)

# 2. Again: every odd UIDL is found in the state; nothing is fetched.
hostile_backup --json
expect_rc 65 "second run"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == 0 and j['accounts'][0]['stored'] == 0 and j['accounts'][0]['known'] == 15" \
	"second run: 15 known, nothing fetched"
assert_eq "$nvol" "$(archive_volumes "$ARCH" | wc -l)" "volumes after the second run"
assert_no_grep "$HP_LOG" "2 RETR" "RETR of a stored message"

# 3. --delete: exactly the stored ones are deleted, without fetching them.
hostile_backup --json --delete
expect_rc 65 "--delete run"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == 0 and j['accounts'][0]['deleted'] == 15" \
	"--delete run: 15 deleted, nothing fetched"
for k in $refused; do
	! grep -Eq "^3 DELE $k\$" "$HP_LOG" || fail "DELE of message $k (UIDL refused)"
done
assert_grep "$HP_LOG" '^3 QUIT$' "QUIT commits the deletions"
assert_no_grep "$HP_LOG" "3 RETR" "RETR of a stored message"
hostile_nothing_lost "$TEST_TMP/expected" "the --delete run"
hostile_hashes >"$TEST_TMP/left"
assert_same_set "$TEST_TMP/refused.hashes" "$TEST_TMP/left" "messages left on the server"
assert_eq 15 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE deleted_at > 0")" \
	"rows marked deleted"
uidls_stored "--delete run"
nothing_outside
no_raw_bytes "$PV_ERR" "$PV_OUT"
hostile_stop

# 4. The server gives the rest sane UIDLs: they are stored and deleted.
hostile_start
hostile_backup --json --delete
expect_rc 0 "re-run with sane UIDLs"
json_check "$PV_OUT" "j['accounts'][0]['stored'] == 3 and j['accounts'][0]['deleted'] == 3" \
	"re-run stored and deleted the 3 left"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
assert_state_settled "$N" "after the re-run"
nothing_outside
exit 0
