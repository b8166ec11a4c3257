# SIGINT, SIGTERM and SIGHUP (each in turn; popvault handles all three, cmd/main.c) in
# the middle of a --delete backup: exit EX_TEMPFAIL (75) promptly, nothing
# lost, nothing deleted that is not archived, the state sane; the next run
# finishes the job without duplicates.  Then the same signals in the
# middle of a restore (150 small messages, two APPENDs in flight): 75
# promptly, nothing twice in the folder and only original messages, every
# upload recorded done in the folder; the next restore exits 0 and the
# folder holds every message exactly once.
. "$IT_DIR/lib.sh"

big=$TEST_TMP/corpus
gen_corpus "$big" --count 200 --seed 5 --size-mix large
mapfile -t files < <(corpus_files "$big")
hashes_of "${files[@]}" >"$TEST_TMP/expected"

# signal_and_wait PID SIG WHAT: send SIG, wait (at most 5 s) for the
# process to end; check it took no more than 2 s and exited 75.
signal_and_wait() {
	local pid=$1 sig=$2 what=$3 sent i rc ms
	kill -"$sig" "$pid"
	sent=$(date +%s%N)
	i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		fail "$what: still running 5 s after SIG$sig"
	fi
	wait "$pid"
	rc=$?
	ms=$((($(date +%s%N) - sent) / 1000000))
	log "$what: exit $rc, ${ms} ms after SIG$sig"
	[ "$rc" = 75 ] || fail "$what: exit after SIG$sig: expected 75, got $rc"
	[ "$ms" -le 2000 ] || fail "$what: took $ms ms to stop after SIG$sig"
}

for sig in INT TERM HUP; do
	u=$(new_account "${sig,,}")
	export POPVAULT_PASSWORD
	POPVAULT_PASSWORD=$(password_of "$u")
	seed "$u" "${files[@]}"
	url=$(url_pop3s "$u")
	ARCH=$TEST_TMP/archive-$sig
	STATE=$TEST_TMP/state-$sig.db
	mkdir -p "$ARCH"

	PV_N=$((PV_N + 1))
	"$POPVAULT" backup --archive "$ARCH" --state "$STATE" --cafile "$CA_FILE" \
		--delete --volume-size 1M --from "$url" \
		</dev/null >"$TEST_TMP/run$PV_N.out" 2>"$TEST_TMP/run$PV_N.err" &
	pid=$!
	# Interrupt once the first volume is durable: the run is well under way.
	i=0
	while [ -z "$(archive_volumes "$ARCH")" ] && kill -0 "$pid" 2>/dev/null &&
		[ "$i" -lt 500 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	kill -0 "$pid" 2>/dev/null || skip "SIG$sig: the run ended before it could be interrupted"
	signal_and_wait "$pid" "$sig" "backup"
	show "$TEST_TMP/run$PV_N.err" 10
	assert_grep "$TEST_TMP/run$PV_N.err" "account $u@.*interrupted" \
		"SIG$sig: one line naming the account and the interruption"

	archive_check "$ARCH"
	{
		maildir_hashes "$u"
		cat "$TEST_TMP/archive.hashes"
	} | sort -u >"$TEST_TMP/held"
	assert_subset "$TEST_TMP/expected" "$TEST_TMP/held" "after SIG$sig"
	assert_state_sane "$STATE"

	backup --delete --volume-size 1M --from "$url"
	expect_rc 0 "the run after the one stopped by SIG$sig"
	archive_check "$ARCH"
	assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive (SIG$sig)"
	assert_eq 0 "$(maildir_count "$u")" "messages left on the server (SIG$sig)"
	assert_state_settled "${#files[@]}" "after the run that followed SIG$sig"
done

# ---- restore ----
small=$TEST_TMP/small
gen_corpus "$small" --count 150 --seed 6 --size-mix small
mapfile -t sfiles < <(corpus_small "$small")
hashes_of "${sfiles[@]}" >"$TEST_TMP/expected.small"
r=$(new_account r)
seed "$r" "${sfiles[@]}"
ARCH=$TEST_TMP/archive-r
STATE=$TEST_TMP/state-r.db
mkdir -p "$ARCH"
POPVAULT_PASSWORD=$(password_of "$r") backup --from "$(url_pop3s "$r")"
expect_rc 0 "backup for the restores"

for sig in INT TERM HUP; do
	t=$(new_account "t${sig,,}")
	export POPVAULT_TARGET_PASSWORD
	POPVAULT_TARGET_PASSWORD=$(password_of "$t")
	to=$(url_imaps "$t" Restored)
	STATE=$TEST_TMP/state-restore-$sig.db
	PV_N=$((PV_N + 1))
	"$POPVAULT" restore --archive "$ARCH" --state "$STATE" --cafile "$CA_FILE" \
		--to "$to" --target-window 2 \
		</dev/null >"$TEST_TMP/run$PV_N.out" 2>"$TEST_TMP/run$PV_N.err" &
	pid=$!
	# Interrupt once some uploads are recorded done: well under way.
	i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 500 ]; do
		n=$(sqlite3 -readonly "$STATE" "SELECT count(*) FROM uploads WHERE state = 1" 2>/dev/null)
		[ "${n:-0}" -gt 0 ] && break
		sleep 0.02
		i=$((i + 1))
	done
	kill -0 "$pid" 2>/dev/null || skip "SIG$sig: the restore ended before it could be interrupted"
	signal_and_wait "$pid" "$sig" "restore"
	show "$TEST_TMP/run$PV_N.err" 10
	assert_grep "$TEST_TMP/run$PV_N.err" "^popvault: restore: .*interrupted" \
		"SIG$sig: restore says it was interrupted"
	imap_dump "$t" Restored "$TEST_TMP/dump-$sig"
	d=$(uniq -d "$TEST_TMP/dump-$sig.hashes")
	[ -z "$d" ] || fail "SIG$sig: a message twice in the folder after the stop: $d"
	sort -u "$TEST_TMP/dump-$sig.hashes" >"$TEST_TMP/dump-$sig.distinct"
	assert_subset "$TEST_TMP/dump-$sig.distinct" "$TEST_TMP/expected.small" \
		"SIG$sig: the folder holds only original messages"
	sql "$STATE" "SELECT lower(sha256) FROM uploads WHERE state = 1" | sort -u >"$TEST_TMP/recorded-$sig"
	assert_subset "$TEST_TMP/recorded-$sig" "$TEST_TMP/dump-$sig.distinct" \
		"SIG$sig: uploads recorded done are in the folder"
	log "SIG$sig: $(wc -l <"$TEST_TMP/dump-$sig.distinct") of $(wc -l <"$TEST_TMP/expected.small") in the folder at the stop, $(wc -l <"$TEST_TMP/recorded-$sig") recorded done"
	[ "$(wc -l <"$TEST_TMP/dump-$sig.distinct")" -lt "$(wc -l <"$TEST_TMP/expected.small")" ] ||
		skip "SIG$sig: the restore had uploaded everything before it stopped"

	restore --archive "$ARCH" --to "$to" --target-window 2
	expect_rc 0 "the restore after the one stopped by SIG$sig"
	imap_dump "$t" Restored "$TEST_TMP/final-$sig"
	assert_folder_exactly "$TEST_TMP/expected.small" "$TEST_TMP/final-$sig" \
		"the folder after the restore that followed SIG$sig"
done
exit 0
