# rebuild-state: two accounts backed up into several volumes (one content
# in both: a ref record), the state deleted, then rebuilt from the volumes.
# The rebuilt rows equal the lost ones; the next backup fetches nothing and
# writes no volume; verify passes without a warning; new mail alone is
# fetched; --delete-after and --delete delete what is archived without
# fetching it.  An existing state is refused (exit 73, unchanged); a
# truncated volume is skipped and named (exit 65), the others rebuilt; a
# backup that makes a new state beside a non-empty archive warns.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

pw=pw-rebuild-$RANDOM$RANDOM
a=$(new_account a "$pw")
b=$(new_account b "$pw")
export POPVAULT_PASSWORD=$pw
big=$TEST_TMP/corpus
gen_corpus "$big" --count 46 --seed 11 --size-mix large
mapfile -t files < <(corpus_files "$big")
a_files=() b_files=()
for i in $(seq 0 39); do
	if [ $((i % 2)) = 0 ]; then a_files+=("${files[i]}"); else b_files+=("${files[i]}"); fi
done
b_files+=("${files[0]}") # in both mailboxes: one content, a ref record
more_a=("${files[@]:40:3}")
more_b=("${files[@]:43:3}")
seed "$a" "${a_files[@]}"
seed "$b" "${b_files[@]}"
ua=$(url_pop3s "$a")
ub=$(url_pop3s "$b")
mkdir -p "$ARCH"

# fetched_of FILE ACCOUNT: that account's "fetched" in a backup report.
field_of() {
	json_get "$1" "[x['$3'] for x in j['accounts'] if x['account'] == '$2'][0]"
}
# The message rows as the manifests can give them back (list_size and
# deleted_at are not in a manifest).
rows() {
	sql "$STATE" "SELECT m.account, hex(m.uidl), m.sha256, m.size,
		coalesce(m.message_id, '-'), coalesce(m.canon, '-'), m.date,
		m.date_off, m.date_src, m.first_seen, v.name, m.state
		FROM messages m JOIN volumes v ON v.id = m.volume_id
		ORDER BY m.account, m.uidl"
}
blobs() {
	sql "$STATE" "SELECT b.sha256, b.size, v.name, b.member, v.created,
		v.state FROM blobs b JOIN volumes v ON v.id = b.volume_id
		ORDER BY b.sha256, v.name"
}

backup --volume-size 1M --from "$ua" --from "$ub"
expect_rc 0 "first backup"
archive_volumes "$ARCH" >"$TEST_TMP/vols.before"
nvols=$(wc -l <"$TEST_TMP/vols.before")
[ "$nvols" -ge 3 ] || fail "expected several volumes, got $nvols"
refs=0
for v in $(cat "$TEST_TMP/vols.before"); do
	n=$(bsdtar -xOf "$v" MANIFEST.popvault | grep -c "^m	ref	") || true
	refs=$((refs + n))
done
[ "$refs" -ge 1 ] || fail "no ref record in the archive (the shared content)"
rows >"$TEST_TMP/rows.lost"
blobs >"$TEST_TMP/blobs.lost"
assert_eq 41 "$(wc -l <"$TEST_TMP/rows.lost")" "message rows before the loss"

# The state is lost.
rm -f "$STATE" "$STATE-wal" "$STATE-shm" "$STATE.lock"

run_pv rebuild-state --archive "$ARCH" --state "$STATE" --json
expect_rc 0 "rebuild-state"
json_check "$PV_OUT" "j['command'] == 'rebuild-state' and j['ok'] and j['written'] and j['messages'] == 41 and j['unresolved'] == 0 and j['problems'] == []" \
	"JSON: every message rebuilt"
json_check "$PV_OUT" "len(j['volumes']) == $nvols and all(v['status'] == 'rebuilt' for v in j['volumes'])" \
	"JSON: every volume rebuilt"
[ "$(stat -c %a "$STATE")" = 600 ] || fail "rebuilt state is not mode 0600"
[ ! -e "$STATE.new" ] || fail "rebuild-state left $STATE.new behind"
rows >"$TEST_TMP/rows.rebuilt"
blobs >"$TEST_TMP/blobs.rebuilt"
diff "$TEST_TMP/rows.lost" "$TEST_TMP/rows.rebuilt" ||
	fail "the rebuilt message rows differ from the lost ones"
diff "$TEST_TMP/blobs.lost" "$TEST_TMP/blobs.rebuilt" ||
	fail "the rebuilt blob rows differ from the lost ones"
assert_state_settled 41 "after rebuild-state"

# The next backup fetches nothing and writes no volume.
backup --volume-size 1M --from "$ua" --from "$ub" --json
expect_rc 0 "backup after rebuild-state"
assert_eq 0 "$(field_of "$PV_OUT" "$(account_of "$ua")" fetched)" "fetched from a"
assert_eq 0 "$(field_of "$PV_OUT" "$(account_of "$ub")" fetched)" "fetched from b"
assert_no_grep "$PV_ERR" "is new: run" "no fresh-state warning with a rebuilt state"
archive_volumes "$ARCH" >"$TEST_TMP/vols.after"
cmp -s "$TEST_TMP/vols.before" "$TEST_TMP/vols.after" ||
	fail "the backup after rebuild-state wrote a volume"

run_pv verify --archive "$ARCH" --state "$STATE" --json
expect_rc 0 "verify the rebuilt state"
json_check "$PV_OUT" "j['ok'] and j['problems'] == []" "verify: no problem, no warning"

# New mail: only it is fetched.
seed "$a" "${more_a[@]}"
seed "$b" "${more_b[@]}"
backup --volume-size 1M --from "$ua" --from "$ub" --json
expect_rc 0 "backup of new mail"
assert_eq 3 "$(field_of "$PV_OUT" "$(account_of "$ua")" fetched)" "new mail fetched from a"
assert_eq 3 "$(field_of "$PV_OUT" "$(account_of "$ub")" fetched)" "new mail fetched from b"

# a by age (first_seen, as the manifests recorded it), b at once: both
# deleted on the server, nothing fetched.
sleep 2
backup --delete-after 1s --from "$ua" --json
expect_rc 0 "backup --delete-after of a"
assert_eq 0 "$(field_of "$PV_OUT" "$(account_of "$ua")" fetched)" "fetched from a (--delete-after)"
assert_eq 23 "$(field_of "$PV_OUT" "$(account_of "$ua")" deleted)" "deleted from a"
backup --delete --from "$ub" --json
expect_rc 0 "backup --delete of b"
assert_eq 0 "$(field_of "$PV_OUT" "$(account_of "$ub")" fetched)" "fetched from b (--delete)"
assert_eq 24 "$(field_of "$PV_OUT" "$(account_of "$ub")" deleted)" "deleted from b"
assert_eq 0 "$(maildir_count "$a")" "a's mailbox after --delete-after"
assert_eq 0 "$(maildir_count "$b")" "b's mailbox after --delete"
archive_check "$ARCH"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive at the end"

# An existing state is never touched.
before=$(sha256sum <"$STATE")
run_pv rebuild-state --archive "$ARCH" --state "$STATE"
expect_rc 73 "rebuild-state over an existing state"
assert_grep "$PV_ERR" "state .* exists" "the refusal says why"
assert_eq "$before" "$(sha256sum <"$STATE")" "the existing state"

# A damaged volume: skipped and named, the others rebuilt.
arch2=$TEST_TMP/archive2
cp -a "$ARCH" "$arch2"
# The first volume: it holds the content b's ref record points to.
victim=$(sed -n 1p "$TEST_TMP/vols.before")
victim=$arch2/$(basename "$victim")
truncate -s $(($(stat -c %s "$victim") / 2)) "$victim"
state2=$TEST_TMP/state2.db
run_pv rebuild-state --archive "$arch2" --state "$state2" --json
expect_rc 65 "rebuild-state with a truncated volume"
assert_grep "$PV_ERR" "$(basename "$victim").*skipped" "the damaged volume is named"
json_check "$PV_OUT" "not j['ok'] and j['written'] and [v['volume'] for v in j['volumes'] if v['status'] == 'skipped'] == ['$(basename "$victim")']" \
	"JSON: only the truncated volume skipped"
# b's record of the shared content refers into it: not recorded, so that
# a backup would fetch it again rather than believe it archived.
json_check "$PV_OUT" "j['unresolved'] == 1" "JSON: the ref into the damaged volume"
shared=$(sha256sum <"${files[0]}" | cut -d' ' -f1)
assert_eq 0 "$(sql "$state2" "SELECT count(*) FROM messages WHERE $(sha_is "$shared")")" \
	"rows of the content only the damaged volume held"
assert_grep "$PV_ERR" "$shared.*not recorded" "the unresolved ref is named"
total=$(archive_volumes "$arch2" | wc -l)
assert_eq $((total - 1)) "$(sql "$state2" "SELECT count(*) FROM volumes WHERE state = 1")" \
	"volumes rebuilt beside the damaged one"
assert_eq 0 "$(sql "$state2" "SELECT count(*) FROM volumes WHERE name = '$(basename "$victim")'")" \
	"the damaged volume is not in the state"
STATE=$state2 assert_state_sane "$state2"

# A backup making a new state beside a non-empty archive warns (b is empty
# on the server now: the run has nothing to fetch).
backup --state "$TEST_TMP/fresh.db" --from "$ub"
expect_rc 0 "backup with a fresh state"
assert_grep "$PV_ERR" "the archive .* holds $(archive_volumes "$ARCH" | wc -l) volume\(s\) but the state .*fresh.db is new: run 'popvault rebuild-state' first" \
	"the fresh-state warning"
exit 0
