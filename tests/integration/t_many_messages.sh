# 20,000 messages in one mailbox: a first fetch, an incremental run with
# nothing new and a --delete run each stay under a fixed memory budget
# (peak RSS measured), every message is archived exactly once and the
# mailbox ends empty.  Memory must not follow the message count.
. "$IT_DIR/lib.sh"

[ -x /usr/bin/time ] || skip "/usr/bin/time (package time) is not installed"
N=20000
RSS_MAX_KB=$((40 * 1024))
# An ASan/UBSan build maps shadow memory and keeps a quarantine: a small
# quarantine, and more room.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
if grep -aqF __asan_init "$POPVAULT" 2>/dev/null; then
	RSS_MAX_KB=$((160 * 1024))
fi

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
md=$(maildir "$u")
"$PYTHON" "$IT_DIR/../bench/gen_small.py" tiny -q --count "$N" --seed 7 \
	--maildir "$md" --owner "$MAIL_UID:$MAIL_GID" ||
	fail "cannot write $N messages into the Maildir"
# (too many files for maildir_hashes' argument list)
find "$md/cur" -type f -exec sha256sum {} + | cut -d' ' -f1 | sort >"$TEST_TMP/expected"
assert_eq "$N" "$(sort -u "$TEST_TMP/expected" | wc -l)" "distinct messages seeded"
mkdir -p "$ARCH"
log "seeded at ${SECONDS}s"

# measured WHAT ARGS...: backup under /usr/bin/time; checks the budget.
measured() {
	local what=$1 rss
	shift
	PV_N=$((PV_N + 1))
	log "run $PV_N ($what): popvault backup $*"
	/usr/bin/time -f '%M' -o "$TEST_TMP/rss$PV_N" timeout 300 "$POPVAULT" \
		backup --archive "$ARCH" --state "$STATE" --cafile "$CA_FILE" \
		--from "$(url_pop3s "$u")" "$@" \
		</dev/null >"$TEST_TMP/out$PV_N" 2>"$TEST_TMP/err$PV_N"
	PV_RC=$?
	show "$TEST_TMP/err$PV_N" 5
	expect_rc 0 "$what"
	rss=$(tail -n 1 "$TEST_TMP/rss$PV_N")
	log "$what: peak RSS $rss KB for $N messages (budget $RSS_MAX_KB KB), at ${SECONDS}s"
	[ "$rss" -lt "$RSS_MAX_KB" ] || fail "$what: peak RSS $rss KB over $RSS_MAX_KB KB"
}

measured "first fetch"
assert_grep "$TEST_TMP/err$PV_N" "$N new" "all $N fetched"
measured "nothing new"
assert_grep "$TEST_TMP/err$PV_N" " 0 new" "nothing fetched again"
measured "--delete" --delete
assert_grep "$TEST_TMP/err$PV_N" "$N deleted" "all deleted"
assert_eq 0 "$(find "$md/cur" "$md/new" -type f | wc -l)" "messages left on the server"
# The members' names are their SHA-256 (verify re-hashes every member
# against its name and the manifest; extracting 20,000 files to check them
# here too would only cost time).
for v in $(archive_volumes "$ARCH"); do
	bsdtar -tf "$v" || fail "bsdtar cannot list $v"
done | sed -n 's|^[^/]*/\([0-9a-f]\{64\}\)\.eml$|\1|p' | sort >"$TEST_TMP/members"
assert_eq "$N" "$(wc -l <"$TEST_TMP/members")" "archive members"
sort -u "$TEST_TMP/members" >"$TEST_TMP/members.u"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/members.u" "archive"
vols=$(archive_volumes "$ARCH" | wc -l)
[ "$vols" -ge 2 ] || fail "$N tiny messages in $vols volume: a volume must close at 10,000 messages"
run_pv verify --archive "$ARCH" --state "$STATE"
expect_rc 0 "verify"
exit 0
