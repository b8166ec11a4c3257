# Kill at every step (isync's way): POPVAULT_TEST_STOP_AFTER=k makes the
# binary _exit(100) right after its k-th state transition (volume recorded
# pending, volume durable, volume recorded done, DELE sent, QUIT done).
# For every k, from the same starting mailbox: a --delete run stopped at k,
# then a normal --delete run.  After the stop nothing may be lost; after
# the resumed run the end must equal an uninterrupted run's: every message
# archived exactly once, recorded done once, the mailbox empty, exit 0.
. "$IT_DIR/lib.sh"

corpus=$TEST_TMP/corpus
gen_corpus "$corpus" --count 40 --seed 11
mapfile -t files < <(corpus_files "$corpus")
hashes_of "${files[@]}" >"$TEST_TMP/expected"
n=$(wc -l <"$TEST_TMP/expected")
# Small volumes, so that a run goes through several of them.
vol="--volume-size 1M --compress none"

k=1
completed=no
while [ "$k" -le 60 ]; do
	u=$(new_account "k$k")
	export POPVAULT_PASSWORD
	POPVAULT_PASSWORD=$(password_of "$u")
	seed "$u" "${files[@]}"
	url=$(url_pop3s "$u")
	ARCH=$TEST_TMP/arch$k
	STATE=$TEST_TMP/state$k.db
	mkdir -p "$ARCH"

	POPVAULT_TEST_STOP_AFTER=$k backup --delete $vol --from "$url"
	if [ "$PV_RC" -ne 100 ]; then
		expect_rc 0 "the run with the hook past its last step ($k)"
		completed=yes
	fi
	archive_check "$ARCH"
	{
		maildir_hashes "$u"
		cat "$TEST_TMP/archive.hashes"
	} | sort -u >"$TEST_TMP/held"
	assert_subset "$TEST_TMP/expected" "$TEST_TMP/held" "stop after step $k"

	backup --delete $vol --from "$url"
	expect_rc 0 "the run resumed after step $k"
	archive_check "$ARCH"
	assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" \
	    "archive after resuming from step $k"
	assert_eq "$n" "$(wc -l <"$TEST_TMP/archive.members")" \
	    "members (each message once) after step $k"
	assert_eq 0 "$(maildir_count "$u")" "left on the server after step $k"
	assert_state_settled "$n" "after step $k"
	log "step $k: ok"
	[ "$completed" = yes ] && break
	k=$((k + 1))
done
[ "$completed" = yes ] || fail "the run never completed within 60 steps"
[ "$k" -ge 5 ] || fail "only $k steps: the hook does not count what it should"
log "$((k - 1)) steps interrupted and resumed"
exit 0
