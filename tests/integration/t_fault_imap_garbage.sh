# The IMAP target answers the Message-ID UID FETCH (of a folder that already
# holds a message) with a malformed line ("* 1 FETCH (UID x)", then raw
# bytes): exit 76 (protocol), nothing appended, nothing deleted from POP3.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

a=$(new_account a)
mapfile -t all < <(corpus_small "$CORPUS_DIR")
files=("${all[@]:0:4}")
seed "$a" "${files[@]}"
POPVAULT_PASSWORD=$(password_of "$a")
export POPVAULT_PASSWORD
from=$(url_pop3s "$a")

# A folder that is not empty, so that its Message-IDs are asked for.
"$PYTHON" - "$HI_STORE" "${all[10]}" <<'PYEOF'
import json, os, shutil, sys
store, msg = sys.argv[1:3]
os.makedirs(os.path.join(store, "Garbled"), exist_ok=True)
shutil.copyfile(msg, os.path.join(store, "Garbled", "1.eml"))
json.dump({"folders": {"INBOX": {"uidvalidity": 7, "uidnext": 1},
                       "Garbled": {"uidvalidity": 9, "uidnext": 2}}},
          open(os.path.join(store, "state.json"), "w"))
PYEOF

for mode in uid-x bytes; do
	rm -f "$STATE"
	himap_start --garbage-fetch "$mode"
	himap_migrate --delete --timeout 5 --from "$from" --to "$(himap_url Garbled)"
	expect_rc 76 "migrate with a garbled Message-ID FETCH ($mode)"
	assert_grep "$HI_LOG" "!GARBAGE $mode" "the garbled answer was sent ($mode)"
	assert_no_grep "$HI_LOG" ' APPEND ' "APPEND after a garbled FETCH ($mode)"
	assert_eq 1 "$(himap_count Garbled)" "messages in the folder ($mode)"
	assert_eq 4 "$(maildir_count "$a")" "messages left on the POP3 server ($mode)"
	himap_stop
done
exit 0
