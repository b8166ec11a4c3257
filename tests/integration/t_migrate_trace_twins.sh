# Two of our own messages that differ only in a trace header (the same mail
# delivered twice, another Received: line) are both uploaded, whatever the
# folder already holds from an earlier run; with --delete the second is not
# deleted from POP3 as if its twin were its copy.  A copy another tool put
# into the folder with an extra Received: line does count as present.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

u=$(new_account a)
t=$(new_account t)
export POPVAULT_PASSWORD POPVAULT_TARGET_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
body='From: Ann <ann@example.org>\r\nTo: bob@example.org\r\nSubject: twins\r\nMessage-ID: <twins.1@example.org>\r\nDate: Tue, 3 Jan 2023 10:00:00 +0000\r\n\r\nthe same mail, delivered twice\r\n'
printf "Received: from mx1.example.org by pop.example.org; Tue, 3 Jan 2023 10:00:05 +0000\r\n$body" >"$TEST_TMP/a.eml"
printf "Received: from mx2.example.org by pop.example.org; Tue, 3 Jan 2023 10:00:09 +0000\r\n$body" >"$TEST_TMP/b.eml"
other='From: Carl <carl@example.org>\r\nTo: bob@example.org\r\nSubject: moved by another tool\r\nMessage-ID: <other.1@example.org>\r\nDate: Tue, 3 Jan 2023 11:00:00 +0000\r\n\r\nhello\r\n'
printf "Received: from mx1.example.org by pop.example.org; Tue, 3 Jan 2023 11:00:05 +0000\r\n$other" >"$TEST_TMP/c.eml"
# The other tool's copy: one more Received: line of its own.
printf "Received: by migrator.example.net; Wed, 4 Jan 2023 09:00:00 +0000\r\nReceived: from mx1.example.org by pop.example.org; Tue, 3 Jan 2023 11:00:05 +0000\r\n$other" >"$TEST_TMP/c-foreign.eml"
to=$(url_imaps "$t" Twins)

seed "$u" "$TEST_TMP/a.eml"
migrate --delete --from "$(url_pop3s "$u")" --to "$to"
expect_rc 0 "first run: one of the twins"
assert_eq 1 "$(imapdump count "$t" --folder Twins)" "messages after the first run"

# The twin arrives later; the folder now holds the first (same Message-ID,
# same content without trace headers).
seed "$u" "$TEST_TMP/b.eml"
migrate --delete --from "$(url_pop3s "$u")" --to "$to" --json
expect_rc 0 "second run: the other twin"
json_check "$PV_OUT" "j['accounts'][0]['uploaded'] == 1 and j['accounts'][0]['present'] == 0" \
	"the second twin is uploaded, not taken for the first"
hashes_of "$TEST_TMP/a.eml" "$TEST_TMP/b.eml" >"$TEST_TMP/expected"
imap_dump "$t" Twins "$TEST_TMP/dump"
assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/dump" "both twins, byte for byte"
assert_eq 0 "$(maildir_count "$u")" "left on the POP3 server"

# A foreign copy (another tool's extra Received:) counts as present.
imapdump append "$t" --folder Twins "$TEST_TMP/c-foreign.eml" || fail "imapdump append failed"
seed "$u" "$TEST_TMP/c.eml"
migrate --from "$(url_pop3s "$u")" --to "$to" --json
expect_rc 0 "third run: a message another tool copied already"
json_check "$PV_OUT" "j['accounts'][0]['uploaded'] == 0 and j['accounts'][0]['present'] == 1" \
	"the foreign copy is found by its content"
assert_eq 3 "$(imapdump count "$t" --folder Twins)" "messages after the third run"
exit 0
