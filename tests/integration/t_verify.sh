# popvault verify: a fresh backup verifies (exit 0, table and JSON); a
# flipped byte inside a compressed volume, a removed volume and a truncated
# volume each give 65 with a message naming the volume, and the other
# volumes are still checked.  A state older than the archive: a warning for
# the newer volume; a restore's state (no volumes): one note.  No state:
# the archive alone.  A directory
# that cannot be read: 74.  Bad options: 64.
. "$IT_DIR/lib.sh"

pw=pw-verify-$RANDOM$RANDOM
a=$(new_account a "$pw")
b=$(new_account b "$pw")
c=$(new_account c "$pw")
mapfile -t files < <(corpus_files)
total=${#files[@]}
# Three accounts, so three volumes; the shared message makes a "ref".
seed "$a" "${files[@]:0:20}"
seed "$b" "${files[@]:20:20}" "${files[0]}"
seed "$c" "${files[@]:40}"

mkdir -p "$ARCH"
POPVAULT_PASSWORD=$pw backup --from "$(url_pop3s "$a")" \
	--from "$(url_pop3s "$b")" --from "$(url_pop3s "$c")"
expect_rc 0 "backup"
mapfile -t vols < <(archive_volumes "$ARCH")
[ "${#vols[@]}" -eq 3 ] || fail "expected 3 volumes, got ${#vols[@]}"

verify() { run_pv verify --state "$STATE" "$@"; }

# ---- a good archive ----
verify --archive "$ARCH"
expect_rc 0 "verify of a fresh backup"
for v in "${vols[@]}"; do
	assert_grep "$PV_OUT" "^$(basename "$v") +[0-9]+ +.* ok$" "table row"
done
[ ! -s "$PV_ERR" ] || fail "a good archive gave messages on stderr"

verify --archive "$ARCH" --json
expect_rc 0 "verify --json"
json_check "$PV_OUT" 'j["ok"] and j["problems"] == [] and len(j["volumes"]) == 3 and all(v["status"] == "ok" for v in j["volumes"])' \
	"verify --json of a good archive"
json_check "$PV_OUT" "sum(x['messages'] for x in j['accounts']) == $total + 1 and sum(x['found'] for x in j['accounts']) == $total + 1 and all(x['missing'] == 0 for x in j['accounts'])" \
	"per-account counts"

# ---- no state: the archive alone, and said so ----
run_pv verify --archive "$ARCH" --state "$TEST_TMP/no-such-state.db"
expect_rc 0 "verify without a state"
assert_grep "$PV_ERR" "no state at .*archive alone" "no-state note"

# ---- a flipped byte inside a compressed volume ----
cp -a "$ARCH" "$TEST_TMP/flip"
victim=$(basename "${vols[1]}")
"$PYTHON" - "$TEST_TMP/flip/$victim" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x55
open(p, "wb").write(bytes(b))
EOF
verify --archive "$TEST_TMP/flip"
expect_rc 65 "verify after a flipped byte"
assert_grep "$PV_ERR" "error: $victim: " "stderr names the damaged volume"
assert_grep "$PV_OUT" "^$victim .* corrupt$" "table marks it corrupt"
for v in "${vols[0]}" "${vols[2]}"; do
	n=$(basename "$v")
	# still read to the end: members were counted
	assert_grep "$PV_OUT" "^$n +[1-9][0-9]* " "other volume $n still checked"
done
verify --archive "$TEST_TMP/flip" --json
expect_rc 65 "verify --json after a flipped byte"
json_check "$PV_OUT" "not j['ok'] and any(p['kind'] == 'damaged' and p['volume'] == '$victim' for p in j['problems'])" \
	"JSON problem for the damaged volume"

# ---- a removed volume ----
cp -a "$ARCH" "$TEST_TMP/removed"
gone=$(basename "${vols[0]}")
rm "$TEST_TMP/removed/$gone"
verify --archive "$TEST_TMP/removed" --json
expect_rc 65 "verify after removing a volume"
assert_grep "$PV_ERR" "volume $gone is done in the state but not in" \
	"stderr names the missing volume"
assert_grep "$PV_ERR" "account .*: message [0-9a-f]{64} is done in the state but no good volume holds it" \
	"stderr names the missing messages"
json_check "$PV_OUT" "any(p['kind'] == 'missing-volume' and p['volume'] == '$gone' for p in j['problems']) and any(v['volume'] == '$gone' and v['status'] == 'missing' for v in j['volumes']) and sum(x['missing'] for x in j['accounts']) > 0" \
	"JSON: missing volume and missing messages"

# ---- a truncated volume ----
cp -a "$ARCH" "$TEST_TMP/cut"
cut=$(basename "${vols[2]}")
size=$(stat -c %s "$TEST_TMP/cut/$cut")
truncate -s $((size / 2)) "$TEST_TMP/cut/$cut"
verify --archive "$TEST_TMP/cut"
expect_rc 65 "verify after truncating a volume"
assert_grep "$PV_ERR" "error: $cut: " "stderr names the truncated volume"
assert_grep "$PV_OUT" "^$cut .* corrupt$" "table marks it corrupt"

# ---- partial files of a running backup are not volumes ----
cp -a "$ARCH" "$TEST_TMP/partial"
printf 'junk' >"$TEST_TMP/partial/.$gone.partial-AbCdEf"
verify --archive "$TEST_TMP/partial"
expect_rc 0 "verify ignores a partial file"

# ---- the directory cannot be read; bad options ----
verify --archive "$TEST_TMP/does-not-exist"
expect_rc 74 "verify of a missing directory"
assert_grep "$PV_ERR" "does-not-exist" "the error names the directory"
verify --archive "$ARCH" --no-such-option
expect_rc 64 "unknown option"
: >"$TEST_TMP/empty.conf"
chmod 600 "$TEST_TMP/empty.conf"
run_pv verify --state "$STATE" -C "$TEST_TMP/empty.conf"
expect_rc 64 "no archive directory"
# ---- a state older than the archive: the newer volume is a warning ----
cp -a "$ARCH" "$TEST_TMP/grown"
cp "$STATE" "$TEST_TMP/grown.db"
cp "$STATE" "$TEST_TMP/old-state.db"
d=$(new_account d "$pw")
printf 'Subject: only in the newest volume\r\nMessage-ID: <newest@verify>\r\n\r\nnew\r\n' >"$TEST_TMP/new.eml"
seed "$d" "$TEST_TMP/new.eml"
POPVAULT_PASSWORD=$pw ARCH=$TEST_TMP/grown STATE=$TEST_TMP/grown.db \
	backup --from "$(url_pop3s "$d")"
expect_rc 0 "backup of a fourth account"
newest=$(basename "$(archive_volumes "$TEST_TMP/grown" | grep -F "$(account_safe "$d")")")
[ -n "$newest" ] || fail "no volume for the fourth account"
run_pv verify --archive "$TEST_TMP/grown" --state "$TEST_TMP/old-state.db"
expect_rc 0 "verify with a state older than the archive"
assert_grep "$PV_ERR" "volume $newest is not in the state" "the warning names the newer volume"
assert_eq 1 "$(grep -c 'is not in the state' "$PV_ERR")" "volumes warned about"

# ---- a restore's state (uploads only): one note, no warning per volume ----
t=$(new_account t "$pw")
POPVAULT_TARGET_PASSWORD=$pw run_pv restore --archive "$ARCH" --state "$TEST_TMP/restore.db" \
	--cafile "$CA_FILE" --to "$(url_imaps "$t" Back)"
# (the corpus's messages over Dovecot's APPENDLIMIT are refused: 65)
[ "$PV_RC" = 0 ] || [ "$PV_RC" = 65 ] || fail "restore into a new state: exit $PV_RC"
run_pv verify --archive "$ARCH" --state "$TEST_TMP/restore.db"
expect_rc 0 "verify with a restore's state"
assert_no_grep "$PV_ERR" "is not in the state" "a warning per volume for a restore's state"
assert_grep "$PV_ERR" "the state records no volumes .*checked on their own" "the note"
exit 0
