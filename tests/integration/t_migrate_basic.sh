# migrate: two POP3 accounts (one message in both) into one IMAPS folder.
# The folder holds every distinct message once, byte-identical, with the
# INTERNALDATE of its newest Received (else Date) header and \Seen; a second
# run uploads nothing and leaves the folder as it was.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

pw=pw-mbasic-$RANDOM$RANDOM
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
distinct=$(wc -l <"$TEST_TMP/expected")

export POPVAULT_PASSWORD=$pw
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
export POPVAULT_TARGET_PASSWORD
folder=Migrated
to=$(url_imaps "$t" "$folder")

migrate --from "$(url_pop3s "$a")" --from "$(url_pop3s "$b")" --to "$to" --json
expect_rc 0 "first migrate"
json_check "$PV_OUT" "j['command'] == 'migrate' and j['ok'] and j['exit'] == 0 and len(j['accounts']) == 2" \
	"JSON summary"
json_check "$PV_OUT" "sum(x['uploaded'] for x in j['accounts']) == $distinct and sum(x['failed'] for x in j['accounts']) == 0" \
	"JSON: every distinct message uploaded once"

imap_dump "$t" "$folder" "$TEST_TMP/dump1"
assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/dump1" "folder after migrate"
assert_internaldates "$TEST_TMP/dump1" "first migrate" "${files[@]}"
if grep -v ' (\\Seen)$' "$TEST_TMP/dump1" | head -n 5 | grep .; then
	fail "messages without exactly the flags (\\Seen) (above)"
fi
# Without --delete the POP3 mailboxes are untouched.
assert_eq "$half" "$(maildir_count "$a")" "messages left on $a"
assert_eq $((n - half + 1)) "$(maildir_count "$b")" "messages left on $b"

migrate --from "$(url_pop3s "$a")" --from "$(url_pop3s "$b")" --to "$to" --json
expect_rc 0 "second migrate"
json_check "$PV_OUT" "j['ok'] and sum(x['uploaded'] for x in j['accounts']) == 0" \
	"JSON: nothing uploaded again"
imap_dump "$t" "$folder" "$TEST_TMP/dump2"
cmp -s "$TEST_TMP/dump1" "$TEST_TMP/dump2" || {
	diff "$TEST_TMP/dump1" "$TEST_TMP/dump2" | head -n 10 | sed 's/^/    /'
	fail "the second run changed the folder"
}

# status tells what went where.
run_pv status --state "$STATE" --json
expect_rc 0 "status after migrate"
json_check "$PV_OUT" "len(j['targets']) == 1 and j['targets'][0]['folder'] == '$folder' and j['targets'][0]['appended'] == $(wc -l <"$TEST_TMP/expected") and j['targets'][0]['intents'] == 0" \
	"status --json: the target folder and its uploads"
run_pv status --state "$STATE"
assert_grep "$PV_OUT" "^TARGET +FOLDER +APPENDED" "status table of targets"
exit 0
