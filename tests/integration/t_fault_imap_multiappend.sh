# MULTIAPPEND against a scripted target that offers it: an APPEND carries
# several messages, stored all or none (RFC 3502).
#  1. The 3rd message is refused ("NO [CANNOT]"), which refuses its whole
#     group: the group's messages go again one by one, so only that one
#     fails (exit 65), the others are in the folder once each and deleted
#     from the POP3 server, the refused one stays there.
#  2. The server stores the group holding the 4th message, then closes the
#     connection without answering: exit 75, nothing deleted.  Again
#     without the fault: every message in the folder exactly once (the
#     stored but unanswered group is found by content, not appended again),
#     the POP3 mailbox empty.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

mapfile -t all < <(corpus_small "$CORPUS_DIR")
files=("${all[@]:0:8}")

# ---- 1: one message of a group refused ------------------------------------
a=$(new_account a)
seed "$a" "${files[@]}"
refused=${files[2]}
refused_sha=$(sha256sum <"$refused" | cut -d' ' -f1)
hashes_of "${files[@]:0:2}" "${files[@]:3}" >"$TEST_TMP/expected"
POPVAULT_PASSWORD=$(password_of "$a")
export POPVAULT_PASSWORD
from=$(url_pop3s "$a")

himap_start --multiappend --no-append 3 "refused content"
himap_migrate --delete --from "$from" --to "$(himap_url Refused)" --json
expect_rc 65 "migrate with message 3 refused inside a MULTIAPPEND"
assert_grep "$HI_LOG" '!MULTIAPPEND 1-8' "the messages went in one MULTIAPPEND"
assert_grep "$PV_ERR" "refused content" "stderr carries the server's text"
assert_himap_exactly "$TEST_TMP/expected" Refused "folder after the refused group"
assert_eq 7 "$(himap_count Refused)" "messages in the folder (each once)"
assert_eq "$refused_sha" "$(maildir_hashes "$a")" "what is left on the POP3 server"
json_check "$PV_OUT" "j['accounts'][0]['failed'] == 1 and j['accounts'][0]['uploaded'] == 7 and j['accounts'][0]['deleted'] == 7" \
	"JSON: 1 failed, 7 uploaded and deleted"
himap_stop

# ---- 2: the connection dropped after a group was stored -----------------------
b=$(new_account b)
seed "$b" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected.b"
POPVAULT_PASSWORD=$(password_of "$b")
from=$(url_pop3s "$b")
HI_PORT=
himap_start --multiappend --drop-after-append 4
himap_migrate --delete --from "$from" --to "$(himap_url Dropped)"
expect_rc 75 "migrate with the connection dropped after a stored group"
assert_grep "$HI_LOG" '!CLOSE fin' "the server closed after storing"
assert_eq 8 "$(maildir_count "$b")" "messages left on the POP3 server"
n1=$(himap_count Dropped)
log "after the drop: $n1 message(s) in the folder"
[ "$n1" -ge 4 ] || fail "expected the dropped group stored, got $n1 message(s)"
himap_stop

himap_start --multiappend
himap_migrate --delete --from "$from" --to "$(himap_url Dropped)" --json
expect_rc 0 "re-run without the fault"
assert_himap_exactly "$TEST_TMP/expected.b" Dropped "folder after the re-run"
assert_eq 8 "$(himap_count Dropped)" "messages in the folder"
assert_eq 0 "$(maildir_count "$b")" "messages left on the POP3 server"
json_check "$PV_OUT" "j['ok'] and j['accounts'][0]['uploaded'] == 8 - $n1" \
	"JSON: only the messages never stored uploaded"
exit 0
