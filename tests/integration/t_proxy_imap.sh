# The fault proxy in front of Dovecot's IMAPS port (terminating TLS so it
# can count commands) breaks a restore, and then a migrate --delete:
# the connection dropped at accept, closed instead of forwarding an
# APPEND, cut in the middle of an APPEND's literal, an APPEND stored but
# its answer replaced by a hang-up, a stall after an APPEND (the timeout
# fires).  After each: non-zero exit naming the cause, nothing in the
# folder twice, nothing deleted from the POP3 server that is not in the
# folder; the re-run without the fault leaves every message in the folder
# exactly once (and, for migrate, the mailbox empty).
. "$IT_DIR/lib.sh"

corpus=$TEST_TMP/corpus
gen_corpus "$corpus" --count 150 --seed 43 --size-mix small
mapfile -t files < <(corpus_files "$corpus")
hashes_of "${files[@]}" >"$TEST_TMP/expected"
n=$(wc -l <"$TEST_TMP/expected")
a=$(new_account a)
seed "$a" "${files[@]}"
mkdir -p "$ARCH"
export POPVAULT_PASSWORD POPVAULT_TARGET_PASSWORD
POPVAULT_PASSWORD=$(password_of "$a")
backup --from "$(url_pop3s "$a")"
expect_rc 0 "the backup to restore from"

# no_twice T FOLDER WHAT: no message of T's FOLDER is there twice, and
# each is one of the originals.
no_twice() {
	if imapdump list "$1" | grep -qx "$2"; then
		imap_dump "$1" "$2" "$TEST_TMP/dump"
	else
		: >"$TEST_TMP/dump.hashes" # not created yet: nothing arrived
	fi
	d=$(uniq -d "$TEST_TMP/dump.hashes")
	[ -z "$d" ] || fail "$3: $(echo "$d" | wc -l) message(s) twice in $2"
	assert_subset "$TEST_TMP/dump.hashes" "$TEST_TMP/expected" "$3: foreign messages"
}

# ---- restore ----
r=0
for fault in "--drop-conn 1" "--at APPEND 1 close --rst" "--at APPEND 2 cut:3000" \
	"--at APPEND 1 silent" "--at APPEND 2 stall" "--at APPEND 3 silent --rst"; do
	r=$((r + 1))
	t=$(new_account "t$r")
	POPVAULT_TARGET_PASSWORD=$(password_of "$t")
	STATE=$TEST_TMP/restore$r.db
	# shellcheck disable=SC2086
	proxy_start "$IMAPS_PORT" --proto imap "${PX_TLS[@]}" $fault
	restore --archive "$ARCH" --timeout 2s --to "imaps://$t@$HOST:$PX_PORT/Back"
	[ "$PV_RC" = 75 ] || fail "restore, $fault: expected exit 75, got $PV_RC"
	assert_grep "$PV_ERR" "$HOST:$PX_PORT" "restore, $fault: stderr names the target"
	no_twice "$t" Back "restore, $fault"
	assert_state_sane "$STATE"
	# the fault struck connection 1 only: the re-run goes through unharmed
	restore --archive "$ARCH" --to "imaps://$t@$HOST:$PX_PORT/Back"
	expect_rc 0 "restore again after $fault"
	imap_dump "$t" Back "$TEST_TMP/final$r"
	assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/final$r" \
		"restore, after $fault and a re-run"
	appends=$(grep -c "^2 C [^ ]* APPEND" "$PX_LOG")
	log "restore, $fault: the re-run sent $appends APPEND command(s)"
done

# ---- migrate --delete, the target broken ----
for fault in "--at APPEND 2 silent" "--at APPEND 1 cut:20000 --rst"; do
	r=$((r + 1))
	u=$(new_account "m$r")
	seed "$u" "${files[@]}"
	POPVAULT_PASSWORD=$(password_of "$u")
	t=$(new_account "t$r")
	POPVAULT_TARGET_PASSWORD=$(password_of "$t")
	STATE=$TEST_TMP/migrate$r.db
	# shellcheck disable=SC2086
	proxy_start "$IMAPS_PORT" --proto imap "${PX_TLS[@]}" $fault
	migrate --delete --timeout 2s --from "$(url_pop3s "$u")" \
		--to "imaps://$t@$HOST:$PX_PORT/Moved"
	[ "$PV_RC" = 75 ] || fail "migrate, $fault: expected exit 75, got $PV_RC"
	no_twice "$t" Moved "migrate, $fault"
	# Whatever left the POP3 server is in the folder.
	{
		maildir_hashes "$u"
		cat "$TEST_TMP/dump.hashes"
	} | sort -u >"$TEST_TMP/held"
	assert_subset "$TEST_TMP/expected" "$TEST_TMP/held" "migrate, $fault: nothing lost"
	assert_state_sane "$STATE"
	# the fault struck connection 1 only: the re-run goes through unharmed
	migrate --delete --from "$(url_pop3s "$u")" --to "imaps://$t@$HOST:$PX_PORT/Moved"
	expect_rc 0 "migrate again after $fault"
	imap_dump "$t" Moved "$TEST_TMP/moved$r"
	assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/moved$r" \
		"migrate, after $fault and a re-run"
	assert_eq 0 "$(maildir_count "$u")" "migrate, $fault: messages left on the POP3 server"
done
exit 0
