# restore with the state lost: a backup of two accounts, the state db
# removed, then restore from the archive alone: every distinct message
# once, with its INTERNALDATE; again: nothing uploaded.  Filters: --account,
# --since/--until, --message-id select the right subsets.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

pw=pw-rlost-$RANDOM$RANDOM
a=$(new_account a "$pw")
b=$(new_account b "$pw")
t=$(new_account t)
mapfile -t files < <(corpus_small "$CORPUS_DIR")
n=${#files[@]}
half=$((n / 2))
a_files=("${files[@]:0:half}")
b_files=("${files[@]:half}" "${files[1]}")
seed "$a" "${a_files[@]}"
seed "$b" "${b_files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
hashes_of "${a_files[@]}" >"$TEST_TMP/expected.a"
distinct=$(wc -l <"$TEST_TMP/expected")
ua=$(url_pop3s "$a")
mkdir -p "$ARCH"
POPVAULT_PASSWORD=$pw backup --from "$ua" --from "$(url_pop3s "$b")"
expect_rc 0 "backup"
rm -f "$STATE" "$STATE-wal" "$STATE-shm" "$STATE.lock"

POPVAULT_TARGET_PASSWORD=$(password_of "$t")
export POPVAULT_TARGET_PASSWORD
restore --archive "$ARCH" --to "$(url_imaps "$t" Restored)" --json
expect_rc 0 "restore without a state"
json_check "$PV_OUT" "j['command'] == 'restore' and j['ok'] and j['uploaded'] == $distinct and j['failed'] == 0" \
	"JSON: every distinct message uploaded"
imap_dump "$t" Restored "$TEST_TMP/dump1"
assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/dump1" "restored folder"
assert_internaldates "$TEST_TMP/dump1" "restore" "${files[@]}"

restore --archive "$ARCH" --to "$(url_imaps "$t" Restored)" --json
expect_rc 0 "second restore"
json_check "$PV_OUT" "j['ok'] and j['uploaded'] == 0" "JSON: nothing uploaded again"
imap_dump "$t" Restored "$TEST_TMP/dump2"
cmp -s "$TEST_TMP/dump1" "$TEST_TMP/dump2" || fail "the second restore changed the folder"

# --account: only a's messages (the one shared with b included).
restore --archive "$ARCH" --to "$(url_imaps "$t" OnlyA)" --account "$(account_of "$ua")"
expect_rc 0 "restore --account"
imap_dump "$t" OnlyA "$TEST_TMP/dump.a"
assert_folder_exactly "$TEST_TMP/expected.a" "$TEST_TMP/dump.a" "restore --account $(account_of "$ua")"
# An account the archive does not know: a usage error naming the ones it has.
restore --archive "$ARCH" --to "$(url_imaps "$t" Typo)" --account "nobody@example.org"
expect_rc 64 "restore --account of an unknown account"
assert_grep "$PV_ERR" "no account 'nobody@example.org' in the archive; its accounts: .*$(account_of "$ua")" \
	"the error lists the archive's accounts"

# --since/--until: the message date (as INTERNALDATE: newest Received,
# else Date).  Whether a day is taken in UTC or the message's zone, and
# how an end is counted, is left open: messages within 15 h of a boundary
# (and those without a date) may go either way; all others must not.
since=2024-03-04
until=2024-03-06
for f in "${files[@]}"; do
	printf '%s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$(expected_internaldate "$f")"
done | "$PYTHON" -c '
import calendar, sys, time
lo = calendar.timegm(time.strptime(sys.argv[1], "%Y-%m-%d"))
hi = calendar.timegm(time.strptime(sys.argv[2], "%Y-%m-%d")) + 86400
m = 15 * 3600
inn, out = open(sys.argv[3], "w"), open(sys.argv[4], "w")
for line in sys.stdin:
    p = line.split()
    if len(p) < 2:
        continue
    t = int(p[1])
    if lo + m <= t < hi - m:
        inn.write(p[0] + "\n")
    elif t < lo - m or t >= hi + m:
        out.write(p[0] + "\n")
' "$since" "$until" "$TEST_TMP/range.in" "$TEST_TMP/range.out"
sort -u -o "$TEST_TMP/range.in" "$TEST_TMP/range.in"
sort -u -o "$TEST_TMP/range.out" "$TEST_TMP/range.out"
{ [ -s "$TEST_TMP/range.in" ] && [ -s "$TEST_TMP/range.out" ]; } ||
	fail "the corpus gives no messages inside or outside $since..$until"
restore --archive "$ARCH" --to "$(url_imaps "$t" Range)" --since "$since" --until "$until"
expect_rc 0 "restore --since --until"
imap_dump "$t" Range "$TEST_TMP/dump.range"
assert_subset "$TEST_TMP/range.in" "$TEST_TMP/dump.range.hashes" "restore $since..$until"
bad=$(comm -12 "$TEST_TMP/range.out" "$TEST_TMP/dump.range.hashes")
[ -z "$bad" ] || fail "restore $since..$until took messages far outside: $bad"

# --message-id: the one message with that (unique) Message-ID.
read -r mid mfile < <("$PYTHON" -c '
import collections, json, sys
c = json.load(open(sys.argv[1]))
n = collections.Counter(m["message_id"] for m in c)
m = [m for m in c if m["message_id"] and n[m["message_id"]] == 1 and m["size"] < 100000][9]
print(m["message_id"], m["file"])
' "$CORPUS_DIR/corpus.json")
hashes_of "$CORPUS_DIR/$mfile" >"$TEST_TMP/expected.mid"
restore --archive "$ARCH" --to "$(url_imaps "$t" ByID)" --message-id "$mid" --json
expect_rc 0 "restore --message-id $mid"
json_check "$PV_OUT" "j['selected'] == 1 and j['uploaded'] == 1" "JSON: one message selected"
imap_dump "$t" ByID "$TEST_TMP/dump.mid"
assert_folder_exactly "$TEST_TMP/expected.mid" "$TEST_TMP/dump.mid" "restore --message-id $mid"
exit 0
