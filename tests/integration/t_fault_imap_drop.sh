# The IMAP target stores the 3rd APPEND of a migrate --delete, then closes
# the connection without answering it: exit 75 naming the target, nothing
# deleted from the POP3 mailbox.  Restarted without the fault (same folder,
# same port), a second migrate --delete exits 0: every message is in the
# folder exactly once (the stored but unanswered one is found, not appended
# again) and the POP3 mailbox is empty.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

a=$(new_account a)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
files=("${all[@]:0:6}")
seed "$a" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
POPVAULT_PASSWORD=$(password_of "$a")
export POPVAULT_PASSWORD
from=$(url_pop3s "$a")
folder=Dropped

himap_start --drop-after-append 3
himap_migrate --delete --from "$from" --to "$(himap_url "$folder")"
expect_rc 75 "migrate with the connection dropped after APPEND 3"
assert_grep "$PV_ERR" "target hostile@$HOST:$HI_PORT: folder Dropped: " "stderr names the target and its folder"
assert_grep "$HI_LOG" '^1 !STORED Dropped 3$' "the 3rd APPEND was stored"
assert_grep "$HI_LOG" '^1 !CLOSE fin$' "the server closed after it"
assert_eq 6 "$(maildir_count "$a")" "messages left on the POP3 server"
n1=$(himap_count "$folder")
log "after the drop: $n1 message(s) in the folder"
[ "$n1" -ge 3 ] || fail "expected at least 3 messages stored before the drop, got $n1"
himap_stop

himap_start
himap_migrate --delete --from "$from" --to "$(himap_url "$folder")" --json
expect_rc 0 "re-run without the fault"
assert_himap_exactly "$TEST_TMP/expected" "$folder" "folder after the re-run"
assert_eq 6 "$(himap_count "$folder")" "messages in the folder"
assert_eq 0 "$(maildir_count "$a")" "messages left on the POP3 server"
json_check "$PV_OUT" "j['ok'] and j['accounts'][0]['uploaded'] == 6 - $n1" \
	"JSON: only the messages never stored uploaded"
exit 0
