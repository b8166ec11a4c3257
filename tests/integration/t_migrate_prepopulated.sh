# migrate into a folder that another tool has already filled with 5 of the
# messages (other INTERNALDATE, no flags): only the missing ones are added,
# the 5 stay as they were (not appended again), JSON present counts them.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

a=$(new_account a)
t=$(new_account t)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
# Messages with their own unique Message-ID first (no_message_id and the
# shared Message-ID pairs stay in the migrated rest).
mapfile -t pre < <("$PYTHON" -c '
import json, sys, collections
c = json.load(open(sys.argv[1]))
n = collections.Counter(m["message_id"] for m in c)
d = sys.argv[1].rsplit("/", 1)[0]
pick = [d + "/" + m["file"] for m in c
        if m["message_id"] and n[m["message_id"]] == 1 and m["size"] < 100000]
print("\n".join(pick[2:7]))
' "$CORPUS_DIR/corpus.json")
[ "${#pre[@]}" = 5 ] || fail "could not pick 5 messages to pre-populate"
files=("${all[@]:0:20}" "${pre[@]}")
seed "$a" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
distinct=$(wc -l <"$TEST_TMP/expected")
hashes_of "${pre[@]}" >"$TEST_TMP/pre"
POPVAULT_PASSWORD=$(password_of "$a")
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
export POPVAULT_PASSWORD POPVAULT_TARGET_PASSWORD

old=946684800 # 2000-01-01, unlike any date in the corpus
imapdump append "$t" --folder Prefilled --date "$old" "${pre[@]}" ||
	fail "imapdump append failed"
assert_eq 5 "$(imapdump count "$t" --folder Prefilled)" "pre-populated messages"

migrate --from "$(url_pop3s "$a")" --to "$(url_imaps "$t" Prefilled)" --json
expect_rc 0 "migrate into a pre-populated folder"
# Some picked messages may also be among the first 20, so seeded twice:
# every POP3 message whose content is in the folder counts as present.
json_check "$PV_OUT" "sum(x['present'] for x in j['accounts']) == ${#files[@]} - ($distinct - 5) and sum(x['uploaded'] for x in j['accounts']) == $distinct - 5" \
	"JSON: the 5 (and their copies) present, the rest uploaded"

imap_dump "$t" Prefilled "$TEST_TMP/dump"
assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/dump" "pre-populated folder after migrate"
assert_eq "$distinct" "$(imapdump count "$t" --folder Prefilled)" "messages in the folder"
# The 5 are the other tool's copies: its INTERNALDATE, its (empty) flags.
while read -r h; do
	grep -q "^$h $old [+-][0-9]* ()$" "$TEST_TMP/dump" || {
		grep "^$h " "$TEST_TMP/dump" | sed 's/^/    /'
		fail "pre-populated message $h was replaced or changed"
	}
done <"$TEST_TMP/pre"
# The added ones carry the migrate date (the picked 5 may be among the
# first 20 too: those keep the other tool's date, checked above).
added=()
for f in "${all[@]:0:20}"; do
	grep -qx "$(hashes_of "$f")" "$TEST_TMP/pre" || added+=("$f")
done
assert_internaldates "$TEST_TMP/dump" "added messages" "${added[@]}"
exit 0
