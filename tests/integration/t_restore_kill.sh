# Kill a restore at every step (POPVAULT_TEST_STOP_AFTER=k; 20 messages with
# --target-window 2, so two batches of 16), then restore again with the
# state of the killed run: the folder ends holding every distinct message of the archive
# exactly once.  Then once more with the state deleted after the kill: the
# folder's contents alone must prevent duplicates.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

corpus=$TEST_TMP/corpus
gen_corpus "$corpus" --count 20 --seed 41 --size-mix small
mapfile -t files < <(corpus_files "$corpus")
a=$(new_account a)
b=$(new_account b)
# One message in both mailboxes: a "ref" in the second volume.
seed "$a" "${files[@]:0:10}"
seed "$b" "${files[@]:10}" "${files[0]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
n=$(wc -l <"$TEST_TMP/expected")
mkdir -p "$ARCH"
POPVAULT_PASSWORD=$(password_of "$a") backup --from "$(url_pop3s "$a")"
expect_rc 0 "backup of a"
POPVAULT_PASSWORD=$(password_of "$b") backup --from "$(url_pop3s "$b")"
expect_rc 0 "backup of b"
export POPVAULT_TARGET_PASSWORD

k=1
completed=no
settled=0
while [ "$k" -le 40 ]; do
	[ "$SECONDS" -lt 150 ] || fail "over 150 s at step $k"
	for lose in no yes; do
		t=$(new_account "t$k$lose")
		POPVAULT_TARGET_PASSWORD=$(password_of "$t")
		to=$(url_imaps "$t" Back)
		STATE=$TEST_TMP/state$k$lose.db
		POPVAULT_TEST_STOP_AFTER=$k restore --archive "$ARCH" --to "$to" --target-window 2
		if [ "$PV_RC" -ne 100 ]; then
			expect_rc 0 "the restore with the hook past its last step ($k)"
			completed=yes
		fi
		[ "$lose" = yes ] && rm -f "$STATE" "$STATE-wal" "$STATE-shm"
		restore --archive "$ARCH" --to "$to" --target-window 2 --json
		expect_rc 0 "the restore resumed after step $k (state lost: $lose)"
		grep -q "upload(s) of an interrupted run found in the folder" "$PV_ERR" &&
			settled=$((settled + 1))
		imap_dump "$t" Back "$TEST_TMP/final$k$lose"
		assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/final$k$lose" \
			"folder after resuming from step $k (state lost: $lose)"
		assert_eq "$n" "$(imapdump count "$t" --folder Back)" \
			"messages in the folder after step $k (state lost: $lose)"
	done
	log "step $k: ok"
	[ "$completed" = yes ] && break
	k=$((k + 1))
done
[ "$completed" = yes ] || fail "the restore never completed within 40 steps"
[ "$k" -ge 6 ] || fail "only $k steps: the hook does not count what it should"
[ "$settled" -ge 1 ] || fail "no resumed restore settled an interrupted APPEND"
log "$((k - 1)) steps interrupted and resumed"
exit 0
