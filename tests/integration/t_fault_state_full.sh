# The state db's disk fills up in the middle of a --delete run: the state
# (and its -wal, -shm and .lock) on a small tmpfs, the archive on the
# normal disk, 300 small messages (3.3 MB) in four volumes of 1 MiB.  The
# state peaks near 0.8 MB (db and WAL) in such a run, so the tmpfs sizes
# make it fill at different moments (measured with SQLite 3.40): 64 KiB
# creating the state, 256 KiB recording the second volume pending, 384 KiB
# marking the second volume done (after its rename: the next run recovers
# it), 736 KiB recording the deletions after QUIT (the server has deleted
# them; the rows are done), 800 KiB recording the run's outcome.
# For each size, a fresh account: exit 74 (local I/O) with a line naming
# the state and "disk is full" (and the account, when an account's run hit
# it); nothing deleted on the server that the state does not record done,
# in a volume on disk; the state opens (status) and is sane; the summary's
# deleted count is what left the server (also when recording the
# deletions is what failed: the line then says they were deleted); no
# volume done in the state without its file, no partial file left.  Once
# (the first size that fills mid-run) the run is repeated on the
# still-full disk: 74 again, nothing lost.  Then, with the tmpfs grown,
# the re-run converges: exit 0, each message archived exactly once, the
# mailbox empty, every row done.  Needs root (mount); skipped otherwise.
. "$IT_DIR/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
sdir=$TEST_TMP/statefs
mkdir -p "$sdir"
mounted=no
trap '[ "$mounted" = no ] || umount "$sdir" 2>/dev/null || umount -l "$sdir"' EXIT

gen_corpus "$TEST_TMP/corpus" --count 300 --seed 7 --size-mix small
mapfile -t files < <(corpus_files "$TEST_TMP/corpus")
hashes_of "${files[@]}" >"$TEST_TMP/expected"
n=$(wc -l <"$TEST_TMP/expected")

# check_after_fault USER WHAT: the invariants right after a failed run.
check_after_fault() {
	local u=$1 what=$2 d errf=$PV_ERR outf=$PV_OUT
	expect_rc 74 "$what"
	# Per account when an account's run hit it; else (opening the
	# state, taking its lock) about the state alone.
	assert_grep "$errf" "^popvault: (account $u@[^ ]*: )?([0-9]+ archived message\(s\) deleted on the server, not recorded so: )?(cannot create )?state( lock)? ${STATE}[^ ]*: .*(disk is full|No space left on device)" \
		"$what: a line naming the state and the cause"
	# "created state", the account's line, and at most the two run
	# records that could not be written either.
	[ "$(grep -c . "$errf")" -le 4 ] || fail "$what: more than four lines on stderr"
	archive_check "$ARCH"
	maildir_hashes "$u" >"$TEST_TMP/left"
	{
		cat "$TEST_TMP/left"
		cat "$TEST_TMP/archive.hashes"
	} | sort -u >"$TEST_TMP/held"
	assert_subset "$TEST_TMP/expected" "$TEST_TMP/held" "$what: nothing lost"
	comm -23 "$TEST_TMP/expected" "$TEST_TMP/left" >"$TEST_TMP/deleted"
	assert_subset "$TEST_TMP/deleted" "$TEST_TMP/archive.hashes" \
		"$what: deleted messages are in a volume"
	# The summary says what left the server, recorded or not.
	if grep -q "account $u@" "$errf"; then
		json_check "$outf" "j['accounts'][0]['deleted'] == $(wc -l <"$TEST_TMP/deleted")" \
			"$what: the deleted count reported"
	fi
	[ -f "$STATE" ] || {
		[ -s "$TEST_TMP/deleted" ] && fail "$what: messages deleted without a state"
		log "$what: no state was created; nothing deleted"
		return 0
	}
	run_pv status --state "$STATE"
	expect_rc 0 "$what: status opens the state"
	assert_state_sane "$STATE"
	# Deleted only what the state records done, in a done volume.
	sql "$STATE" "SELECT DISTINCT lower(sha256) FROM messages m
		JOIN volumes v ON v.id = m.volume_id
		WHERE m.state = 1 AND v.state = 1" | sort >"$TEST_TMP/done"
	assert_subset "$TEST_TMP/deleted" "$TEST_TMP/done" \
		"$what: deleted messages are recorded done"
	# Deleted but not recorded so (the disk filled after QUIT): said.
	d=$(sql "$STATE" "SELECT count(*) FROM messages WHERE deleted_at > 0")
	if [ "$d" -lt "$(wc -l <"$TEST_TMP/deleted")" ]; then
		assert_grep "$errf" "account $u@[^ ]*: $(($(wc -l <"$TEST_TMP/deleted") - d)) archived message\(s\) deleted on the server, not recorded so: " \
			"$what: the line says the messages were deleted"
	fi
	for d in $(sql "$STATE" "SELECT name FROM volumes WHERE state = 1"); do
		[ -f "$ARCH/$d" ] || fail "$what: volume $d is done in the state but not on disk"
	done
	d=$(find "$ARCH" -maxdepth 1 -name '.*' -type f)
	[ -z "$d" ] || fail "$what: partial file(s) left: $d"
	log "$what: $(wc -l <"$TEST_TMP/deleted") deleted, $(wc -l <"$TEST_TMP/left") left, $(wc -l <"$TEST_TMP/done") done, $(sql "$STATE" "SELECT count(*) FROM volumes WHERE state = 0") volume(s) pending"
}

repeated=no
midrun=0
for size in ${STATEFS_SIZES:-64k 256k 384k 736k 800k}; do
	[ "$SECONDS" -lt 200 ] || fail "over 200 s at size $size"
	mount -t tmpfs -o "size=$size,mode=0700" popvault-test "$sdir" 2>"$TEST_TMP/mount.err" ||
		skip "cannot mount a tmpfs: $(cat "$TEST_TMP/mount.err")"
	mounted=yes
	STATE=$sdir/state.db
	ARCH=$TEST_TMP/archive-$size
	mkdir -p "$ARCH"
	u=$(new_account "$size")
	export POPVAULT_PASSWORD
	POPVAULT_PASSWORD=$(password_of "$u")
	seed "$u" "${files[@]}"
	url=$(url_pop3s "$u")

	backup --delete --compress none --volume-size 1M --from "$url" --json
	df -k "$sdir" | tail -n 1 | sed 's/^/    df: /'
	if [ "$PV_RC" = 0 ]; then
		log "size $size: room enough, the run completed"
	else
		check_after_fault "$u" "state on a full $size tmpfs"
		if [ -f "$STATE" ] && [ "$(archive_volumes "$ARCH" | wc -l)" -gt 0 ]; then
			midrun=$((midrun + 1))
			if [ "$repeated" = no ]; then
				repeated=yes
				backup --delete --compress none --volume-size 1M --from "$url" --json
				check_after_fault "$u" "the same run again on the full $size tmpfs"
			fi
		fi
		mount -o remount,size=8m "$sdir" || fail "cannot grow the tmpfs"
		backup --delete --compress none --volume-size 1M --from "$url"
		expect_rc 0 "size $size: the re-run with room"
	fi
	archive_check "$ARCH"
	assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "size $size: archive after the re-run"
	assert_eq 0 "$(maildir_count "$u")" "size $size: messages left on the server"
	assert_state_settled "$n" "size $size: after the re-run"
	umount "$sdir" || fail "cannot unmount the tmpfs"
	mounted=no
	log "size $size: done at ${SECONDS}s"
done
[ "$midrun" -ge 2 ] || fail "the state filled mid-run only $midrun time(s): resize the tmpfs sizes"
exit 0
