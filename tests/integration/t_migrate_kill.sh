# Kill at every step of a migrate --delete (POPVAULT_TEST_STOP_AFTER=k:
# _exit(100) after the k-th state step), then a normal run.  After the stop
# nothing is lost (each message is on the POP3 server or in the folder);
# after the resumed run the folder holds every message exactly once and the
# POP3 mailbox is empty.  A fresh source, target and state for every k.
# Twice: IMAP only with one batch, then with an archive too and a window
# of two (--target-window 2: batches of 16), so that kills fall between
# volume and upload steps and between batches.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

corpus=$TEST_TMP/corpus
gen_corpus "$corpus" --count 18 --seed 23 --size-mix small
mapfile -t all < <(corpus_files "$corpus")
export POPVAULT_PASSWORD POPVAULT_TARGET_PASSWORD

# kill_every_step MODE COUNT: imap (the target only) or archive (both
# sinks), with the first COUNT messages of the corpus.
kill_every_step() {
local mode=$1 k=1 completed=no
local -a files=("${all[@]:0:$2}")
hashes_of "${files[@]}" >"$TEST_TMP/expected"
n=$(wc -l <"$TEST_TMP/expected")
local -a extra
local settled=0
while [ "$k" -le 60 ]; do
	[ "$SECONDS" -lt 200 ] || fail "over 200 s at step $k"
	u=$(new_account "k$mode$k")
	t=$(new_account "t$mode$k")
	POPVAULT_PASSWORD=$(password_of "$u")
	POPVAULT_TARGET_PASSWORD=$(password_of "$t")
	seed "$u" "${files[@]}"
	from=$(url_pop3s "$u")
	to=$(url_imaps "$t" Kill)
	STATE=$TEST_TMP/state$mode$k.db
	ARCH=$TEST_TMP/archive$mode$k
	extra=()
	[ "$mode" = archive ] && extra=(--archive "$ARCH" --target-window 2)

	POPVAULT_TEST_STOP_AFTER=$k migrate --delete --from "$from" --to "$to" "${extra[@]}"
	if [ "$PV_RC" -ne 100 ]; then
		expect_rc 0 "the run with the hook past its last step ($k)"
		completed=yes
	fi
	held=$TEST_TMP/held$mode$k
	imapdump dump "$t" --folder Kill >"$held.dump"
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 2 ] || fail "imapdump dump failed ($rc) after step $k"
	{
		maildir_hashes "$u"
		cut -d' ' -f1 "$held.dump"
	} | sort -u >"$held"
	assert_subset "$TEST_TMP/expected" "$held" "stop after step $k"

	migrate --delete --from "$from" --to "$to" "${extra[@]}"
	expect_rc 0 "the run resumed after step $k"
	# A kill between APPEND and its record leaves INTENTs that this run
	# must settle by looking into the folder (not by appending again).
	grep -q "upload(s) of an interrupted run found in the folder" "$PV_ERR" &&
		settled=$((settled + 1))
	imap_dump "$t" Kill "$TEST_TMP/final$mode$k"
	assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/final$mode$k" \
		"folder after resuming from step $k ($mode)"
	if [ "$mode" = archive ]; then
		archive_check "$ARCH"
		assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" \
			"archive after resuming from step $k"
	fi
	assert_eq "$n" "$(imapdump count "$t" --folder Kill)" "messages in the folder after step $k"
	assert_eq 0 "$(maildir_count "$u")" "left on the POP3 server after step $k"
	log "$mode step $k: ok"
	[ "$completed" = yes ] && break
	k=$((k + 1))
done
[ "$completed" = yes ] || fail "$mode: the run never completed within 60 steps"
[ "$k" -ge "$MIN_STEPS" ] || fail "$mode: only $k steps: the hook does not count what it should"
[ "$settled" -ge 1 ] || fail "$mode: no resumed run settled an interrupted APPEND"
log "$mode: $((k - 1)) steps interrupted and resumed"
}

# One batch; then (a batch is 8 windows: 16 here) two batches.
MIN_STEPS=4 kill_every_step imap 6
MIN_STEPS=11 kill_every_step archive 18
exit 0
