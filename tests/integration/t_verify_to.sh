# verify --to: after migrate --archive, the archive and the target agree
# (exit 0, JSON target counts); a flipped byte in a volume or a removed
# volume gives 65 naming it; a message removed from the target gives 65
# with "missing from target" naming it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

pw=pw-vto-$RANDOM$RANDOM
a=$(new_account a "$pw")
b=$(new_account b "$pw")
t=$(new_account t)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
a_files=("${all[@]:0:8}")
b_files=("${all[@]:8:8}")
files=("${a_files[@]}" "${b_files[@]}")
seed "$a" "${a_files[@]}"
seed "$b" "${b_files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
total=$(wc -l <"$TEST_TMP/expected")
export POPVAULT_PASSWORD=$pw
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
export POPVAULT_TARGET_PASSWORD
to=$(url_imaps "$t" Verified)
mkdir -p "$ARCH"

migrate --archive "$ARCH" --from "$(url_pop3s "$a")" --from "$(url_pop3s "$b")" --to "$to"
expect_rc 0 "migrate --archive"
mapfile -t vols < <(archive_volumes "$ARCH")
[ "${#vols[@]}" -ge 2 ] || fail "expected a volume per account, got ${#vols[@]}"

verify() { run_pv verify --state "$STATE" --cafile "$CA_FILE" "$@"; }

verify --archive "$ARCH" --to "$to" --json
expect_rc 0 "verify --to after migrate"
json_check "$PV_OUT" "j['ok'] and j['target']['folder'] == 'Verified' and j['target']['expected'] == $total and j['target']['present'] == $total and j['target']['missing'] == 0" \
	"JSON target counts"

# A flipped byte in a volume.
cp -a "$ARCH" "$TEST_TMP/flip"
victim=$(basename "${vols[1]}")
"$PYTHON" - "$TEST_TMP/flip/$victim" <<'PYEOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x55
open(p, "wb").write(bytes(b))
PYEOF
verify --archive "$TEST_TMP/flip" --to "$to"
expect_rc 65 "verify --to after a flipped byte"
assert_grep "$PV_ERR" "$victim" "stderr names the damaged volume"

# A removed volume.
cp -a "$ARCH" "$TEST_TMP/removed"
gone=$(basename "${vols[0]}")
rm "$TEST_TMP/removed/$gone"
verify --archive "$TEST_TMP/removed" --to "$to"
expect_rc 65 "verify --to after removing a volume"
assert_grep "$PV_ERR" "$gone" "stderr names the missing volume"

# A message removed from the target (the archive is intact).
victim_file=${a_files[2]}
h=$(sha256sum <"$victim_file" | cut -d' ' -f1)
mid=$(grep -aim1 '^Message-ID:' "$victim_file" | sed 's/^[^:]*:[[:space:]]*//; s/\r$//')
imapdump delete "$t" --folder Verified --sha256 "$h" || fail "imapdump delete failed"
assert_eq $((total - 1)) "$(imapdump count "$t" --folder Verified)" "messages after the delete"
verify --archive "$ARCH" --to "$to" --json
expect_rc 65 "verify --to with a message gone from the target"
assert_grep "$PV_ERR" "missing from target" "stderr says missing from target"
grep -i "missing from target" "$PV_ERR" | grep -qF -e "$h" -e "${mid:-$h}" || {
	show "$PV_ERR"
	fail "the missing line names neither $mid nor $h"
}
json_check "$PV_OUT" "not j['ok'] and j['target']['missing'] == 1 and j['target']['present'] == $total - 1" \
	"JSON: one missing from the target"

# The account of every message: source -> archive -> target.
verify --archive "$ARCH" --to "$to" --messages --json
expect_rc 65 "verify --messages --json"
json_check "$PV_OUT" "len(j['messages']) == $total and all(m['source'] == 'on-server' and m['archive'] for m in j['messages'])" \
	"every message on the server and in a volume"
json_check "$PV_OUT" "[m['sha256'] for m in j['messages'] if not m['target']['present']] == ['$h'] and all(m['target']['uid'] > 0 for m in j['messages'] if m['sha256'] != '$h')" \
	"only the deleted one is not in the target, the others have a UID"
verify --archive "$ARCH" --to "$to" --messages
expect_rc 65 "verify --messages"
assert_grep "$PV_OUT" "^verify-to-a@.* ${h:0:16} on-server .*\.tar\.gz +MISSING$" \
	"the table row of the deleted message"
assert_eq $((total - 1)) "$(grep -cE ' uid [0-9]+$' "$PV_OUT")" "table rows with a UID in the target"
exit 0
