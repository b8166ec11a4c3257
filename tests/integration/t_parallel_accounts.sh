# Several accounts at once (--jobs / "jobs"): six accounts from one config,
# three at a time, with overlapping mailboxes (the same message in several
# accounts), half of them in delete mode.  Every message ends in the
# archive byte for byte, each account's rows are its own, the run records
# every account, verify agrees, and a second run fetches only what is new.
# Then three accounts at once, all in delete mode, with the test hook
# stopping the run after every state step k (the accounts' steps
# interleave, so k lands anywhere): nothing is lost at the stop, and the
# resumed run ends like an uninterrupted one.
. "$IT_DIR/lib.sh"
export ARCHIVE_DUPS_OK=1

corpus=$TEST_TMP/corpus
gen_corpus "$corpus" --count 30 --seed 23
mapfile -t files < <(corpus_files "$corpus")

# make_accounts TAG N [delete]: N accounts, account i holding files
# i*4 .. i*4+9 (neighbours share six messages), every other one in delete
# mode (all, with "delete"); writes $conf and $TEST_TMP/expected.
make_accounts() {
	local tag=$1 n=$2 i u p
	conf=$TEST_TMP/$tag.conf
	users=()
	{
		echo "defaults"
		echo "archive $ARCH"
		echo "state $STATE"
		echo "cafile $CA_FILE"
		echo "compress none"
		echo "volume_size 1M"
		echo "jobs 3"
	} >"$conf"
	: >"$TEST_TMP/all"
	for i in $(seq 0 $((n - 1))); do
		u=$(new_account "$tag$i")
		users+=("$u")
		seed "$u" "${files[@]:$((i * 4)):10}"
		hashes_of "${files[@]:$((i * 4)):10}" >>"$TEST_TMP/all"
		p=$(password_of "$u")
		{
			echo
			echo "account acct$i"
			echo "from pop3s://$u@127.0.0.1:$POP3S_PORT"
			echo "password $p"
			[ "${3:-}" = delete ] || [ $((i % 2)) = 0 ] && echo "delete yes"
		} >>"$conf"
	done
	chmod 0600 "$conf"
	sort -u "$TEST_TMP/all" >"$TEST_TMP/expected"
}

# server_hashes: what the six mailboxes hold now.
server_hashes() {
	local u
	for u in "${users[@]}"; do maildir_hashes "$u"; done | sort -u
}

# ---- one run, three at a time ----------------------------------------------
ARCH=$TEST_TMP/arch
STATE=$TEST_TMP/state.db
mkdir -p "$ARCH"
make_accounts p 6
run_pv -v -C "$conf" backup
expect_rc 0 "six accounts, three at once"
assert_grep "$PV_ERR" "6 accounts, 3 at once" "the run says it runs accounts at once"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive"
for i in 0 1 2 3 4 5; do
	assert_eq 10 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE account = 'acct$i' AND state = 1")" \
		"done rows of acct$i"
	want=10
	[ $((i % 2)) = 0 ] && want=0
	assert_eq "$want" "$(maildir_count "${users[$i]}")" "left on the server of acct$i"
done
assert_eq 6 "$(sql "$STATE" "SELECT count(*) FROM run_accounts")" "accounts recorded for the run"
assert_eq 0 "$(sql "$STATE" "SELECT count(*) FROM volumes WHERE state = 0")" "pending volumes"
assert_state_sane "$STATE"
assert_grep "$PV_OUT" "acct5" "the table lists the accounts"
# The table keeps the config's order whatever order the accounts ended in.
assert_eq "acct0 acct1 acct2 acct3 acct4 acct5" \
	"$(awk 'NR > 1 { printf "%s%s", sep, $1; sep = " " }' "$PV_OUT")" "table order"
run_pv verify --archive "$ARCH" --state "$STATE"
expect_rc 0 "verify after a parallel run"

seed "${users[1]}" "${files[@]:28:2}"
run_pv -C "$conf" backup --json
expect_rc 0 "the second run"
assert_eq 2 "$(json_get "$PV_OUT" 'j["accounts"][1]["fetched"]')" "fetched by acct1 in the second run"
for i in 0 2 3 4 5; do
	assert_eq 0 "$(json_get "$PV_OUT" "j['accounts'][$i]['fetched']")" "fetched by acct$i in the second run"
done

# ---- stopped after every step, then resumed -----------------------------------
k=1
completed=no
while [ "$k" -le 80 ]; do
	ARCH=$TEST_TMP/karch$k
	STATE=$TEST_TMP/kstate$k.db
	mkdir -p "$ARCH"
	make_accounts "k${k}x" 3 delete
	POPVAULT_TEST_STOP_AFTER=$k run_pv -C "$conf" backup
	if [ "$PV_RC" -ne 100 ]; then
		expect_rc 0 "the run with the hook past its last step ($k)"
		completed=yes
	fi
	archive_check "$ARCH"
	{
		server_hashes
		cat "$TEST_TMP/archive.hashes"
	} | sort -u >"$TEST_TMP/held"
	assert_subset "$TEST_TMP/expected" "$TEST_TMP/held" "stop after step $k"

	run_pv -C "$conf" backup
	expect_rc 0 "the run resumed after step $k"
	archive_check "$ARCH"
	assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" \
		"archive after resuming from step $k"
	assert_eq "" "$(server_hashes)" "left on the servers after step $k"
	assert_state_settled 30 "after step $k"
	log "step $k: ok"
	[ "$completed" = yes ] && break
	k=$((k + 1))
done
[ "$completed" = yes ] || fail "the run never completed within 80 steps"
[ "$k" -ge 12 ] || fail "only $k steps for three accounts: the hook does not count every account's"
log "$((k - 1)) steps interrupted and resumed"
exit 0
