# migrate with --jobs: three accounts with overlapping mailboxes.
#  - --per-account: the accounts run at once (each into its own folder),
#    every subfolder ends with exactly its account's messages, each once,
#    and --delete empties the POP3 mailboxes.
#  - one shared folder: --jobs is ignored with a note (two accounts at once
#    could both find a shared message missing and APPEND it twice), and
#    every distinct message is in the folder exactly once.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

pw=pw-mpar-$RANDOM$RANDOM
mapfile -t all < <(corpus_small "$CORPUS_DIR")
t=$(new_account t)
export POPVAULT_PASSWORD=$pw
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
export POPVAULT_TARGET_PASSWORD
d=$(imap_delimiter "$t")
[ -n "$d" ] || fail "no hierarchy delimiter"

# accounts TAG: three accounts, account i holding messages 3i .. 3i+5
# (neighbours share three); sets users[] and froms[].
accounts() {
	local i u
	users=()
	froms=()
	: >"$TEST_TMP/all.$1"
	for i in 0 1 2; do
		u=$(new_account "$1$i" "$pw")
		users+=("$u")
		froms+=(--from "$(url_pop3s "$u")")
		seed "$u" "${all[@]:$((i * 3)):6}"
		hashes_of "${all[@]:$((i * 3)):6}" >"$TEST_TMP/expected.$1$i"
		cat "$TEST_TMP/expected.$1$i" >>"$TEST_TMP/all.$1"
	done
	sort -u -o "$TEST_TMP/all.$1" "$TEST_TMP/all.$1"
}

# ---- one folder per account, three at once ---------------------------------------
accounts p
migrate -v --jobs 3 --per-account --delete "${froms[@]}" --to "$(url_imaps "$t" Par)"
expect_rc 0 "migrate --per-account --jobs 3"
assert_grep "$PV_ERR" "3 accounts, 3 at once" "the accounts ran at once"
imapdump list "$t" >"$TEST_TMP/list" || fail "imapdump list failed"
for i in 0 1 2; do
	user=${users[$i]}
	grep -F "Par$d" "$TEST_TMP/list" | grep -F "$user" >"$TEST_TMP/sub.$i"
	[ -s "$TEST_TMP/sub.$i" ] || fail "no subfolder for $user below Par"
	# with a '.' delimiter, "127.0.0.1" may nest: the deepest one holds mail
	sub=$(awk '{ print length($0) "\t" $0 }' "$TEST_TMP/sub.$i" | sort -n | tail -n 1 | cut -f2-)
	imap_dump "$t" "$sub" "$TEST_TMP/dump.$i"
	assert_folder_exactly "$TEST_TMP/expected.p$i" "$TEST_TMP/dump.$i" "subfolder of $user"
	assert_eq 0 "$(maildir_count "$user")" "left on the POP3 server of $user"
done
assert_state_sane "$STATE"

# ---- one shared folder: one account at a time --------------------------------------
accounts s
migrate -v --jobs 3 "${froms[@]}" --to "$(url_imaps "$t" Shared)"
expect_rc 0 "migrate into one folder with --jobs 3"
assert_grep "$PV_ERR" "one account at a time" "the note that --jobs does not apply"
imap_dump "$t" Shared "$TEST_TMP/dump.shared"
assert_folder_exactly "$TEST_TMP/all.s" "$TEST_TMP/dump.shared" "the shared folder"
exit 0
