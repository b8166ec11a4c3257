# A message whose body holds lines that look like IMAP responses ("pv3 OK
# done", "pv4 OK [APPENDUID 1 99] x", "* 5 EXISTS", "A001 OK", and "pvN OK"
# for the tags a run uses) comes back inside FETCH literals: the client must
# take the literal's bytes as bytes.  The folder also holds an impostor with
# the same Message-ID and other content.  The first migrate uploads the
# three messages; with the state db gone, a second migrate must fetch and
# hash the Message-ID candidates, find all three present (uploaded 0) and add
# nothing to the folder.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

a=$(new_account a)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
tricky=$TEST_TMP/tricky.eml
impostor=$TEST_TMP/impostor.eml
"$PYTHON" - "$tricky" "$impostor" <<'PYEOF'
import sys
head = [b"Received: from relay.example.net by mx.example.org; Tue, 05 Mar 2024 10:00:00 +0100",
        b"From: Tricky <tricky@example.net>",
        b"To: someone@example.org",
        b"Subject: lines that look like IMAP",
        b"Date: Tue, 05 Mar 2024 09:59:00 +0100",
        b"Message-ID: <tagged-in-literal.1@example.net>",
        b""]
body = [b"pv3 OK done", b"pv4 OK [APPENDUID 1 99] x", b"* 5 EXISTS",
        b"A001 OK", b"* BYE", b")", b"* 1 FETCH (UID 99 BODY[] {3}", b"abc"]
body += [b"pv%d OK [APPENDUID 1 %d] done" % (n, 90 + n) for n in range(1, 25)]
body += [b"pv%d NO [OVERQUOTA] no" % n for n in range(1, 25)]
body += [b"the end"]
open(sys.argv[1], "wb").write(b"\r\n".join(head + body) + b"\r\n")
imp = b"\r\n".join(head + [b"an impostor: same Message-ID, other bytes"]) + b"\r\n"
open(sys.argv[2], "wb").write(imp)
PYEOF
files=("${all[0]}" "$tricky" "${all[1]}")
seed "$a" "${files[@]}"
hashes_of "${files[@]}" "$impostor" >"$TEST_TMP/expected"
POPVAULT_PASSWORD=$(password_of "$a")
export POPVAULT_PASSWORD
from=$(url_pop3s "$a")

# The impostor is in the folder before any run.
mkdir -p "$HI_STORE/Tricky"
cp "$impostor" "$HI_STORE/Tricky/1.eml"
printf '{"folders": {"INBOX": {"uidvalidity": 7, "uidnext": 1}, "Tricky": {"uidvalidity": 9, "uidnext": 2}}}\n' \
	>"$HI_STORE/state.json"

himap_start --tagged-in-literal
to=$(himap_url Tricky)
himap_migrate --from "$from" --to "$to" --json
expect_rc 0 "first migrate"
json_check "$PV_OUT" "j['ok'] and j['accounts'][0]['uploaded'] == 3 and j['accounts'][0]['present'] == 0" \
	"JSON: the impostor is not the message; 3 uploaded"
assert_himap_exactly "$TEST_TMP/expected" Tricky "folder after the first migrate"

rm -f "$STATE"
himap_migrate --from "$from" --to "$to" --json
expect_rc 0 "second migrate, state db gone"
assert_grep "$HI_LOG" '^2 pv[0-9]+ UID FETCH [0-9,:*]+ \(UID BODY\.PEEK\[\]\)$' \
	"the candidates' bodies were fetched"
json_check "$PV_OUT" "j['ok'] and j['accounts'][0]['present'] == 3 and j['accounts'][0]['uploaded'] == 0" \
	"JSON: all 3 present, none uploaded"
assert_himap_exactly "$TEST_TMP/expected" Tricky "folder after the second migrate"
assert_eq 4 "$(himap_count Tricky)" "messages in the folder"
exit 0
