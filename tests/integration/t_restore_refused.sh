# restore against targets that refuse: Dovecot refusing messages over its
# APPENDLIMIT (1 MiB here: TOOBIG) gives 65 naming them, every other
# message arrives, and restoring twice appends nothing twice; a target
# answering NO [OVERQUOTA] from the 3rd APPEND on (the scripted server)
# gives 74 and stops, saying so once (not once per message); once there is room the re-run completes the folder,
# each message once.
. "$IT_DIR/lib.sh"

a=$(new_account a)
mapfile -t all < <(corpus_files)
seed "$a" "${all[@]}"
mkdir -p "$ARCH"
export POPVAULT_PASSWORD POPVAULT_TARGET_PASSWORD
POPVAULT_PASSWORD=$(password_of "$a")
backup --from "$(url_pop3s "$a")"
expect_rc 0 "the backup to restore from"
hashes_of "${all[@]}" | sort -u >"$TEST_TMP/all"
mapfile -t small < <(corpus_small)
hashes_of "${small[@]}" | sort -u >"$TEST_TMP/small"
nbig=$(($(wc -l <"$TEST_TMP/all") - $(wc -l <"$TEST_TMP/small")))
[ "$nbig" -ge 1 ] || skip "the corpus has no message over 1 MiB"

# ---- TOOBIG from Dovecot ----
t=$(new_account t)
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
STATE=$TEST_TMP/restore.db
restore --archive "$ARCH" --to "$(url_imaps "$t" Back)"
expect_rc 65 "restore with $nbig message(s) over the server's limit"
assert_eq "$nbig" "$(grep -c 'not restored: too big' "$PV_ERR")" \
	"stderr lines naming a message too big"
imap_dump "$t" Back "$TEST_TMP/back1"
assert_folder_exactly "$TEST_TMP/small" "$TEST_TMP/back1" "folder after the refusals"
restore --archive "$ARCH" --to "$(url_imaps "$t" Back)"
expect_rc 65 "the second restore (the big ones are still too big)"
imap_dump "$t" Back "$TEST_TMP/back2"
assert_folder_exactly "$TEST_TMP/small" "$TEST_TMP/back2" "folder after restoring twice"

# ---- OVERQUOTA from the scripted server ----
STATE=$TEST_TMP/quota.db
POPVAULT_TARGET_PASSWORD=$HI_PASS
himap_start --overquota-append 3
restore --archive "$ARCH" --allow-plaintext --to "$(himap_url Quota)"
expect_rc 74 "restore into a target over quota"
assert_grep "$PV_ERR" "OVERQUOTA|quota" "stderr says quota"
# Said once, not once for every message that could not follow.
[ "$(grep -c 'not restored: ' "$PV_ERR")" = 0 ] ||
	fail "one line per message for a target-wide refusal"
n1=$(himap_count Quota)
log "$n1 message(s) in the folder before the quota hit"
[ "$n1" -ge 1 ] || fail "nothing arrived before the quota"
himap_hashes Quota | uniq -d | grep -q . && fail "a message twice after the quota"
himap_stop
himap_start
restore --archive "$ARCH" --allow-plaintext --to "$(himap_url Quota)"
expect_rc 0 "the restore once there is room"
assert_himap_exactly "$TEST_TMP/all" Quota "folder after the quota was lifted"
exit 0
