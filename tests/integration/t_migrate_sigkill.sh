# A real SIGKILL at several moments of a migrate --delete (IMAP only, small
# batches), then a normal run: after every kill nothing is lost (each
# message is on the POP3 server or in the folder) and the folder holds no
# message twice; after the last run the folder holds every message exactly
# once and the POP3 mailbox is empty.  (t_migrate_kill stops at each state
# step deterministically; this one kills wherever the run happens to be,
# mid-APPEND and mid-RETR included.)  Twice: into the folder only, then
# into the folder and an archive (small volumes), which must end complete
# too.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

export POPVAULT_PASSWORD POPVAULT_TARGET_PASSWORD
corpus=$TEST_TMP/corpus
gen_corpus "$corpus" --count 400 --seed 11 --size-mix small
mapfile -t files < <(corpus_files "$corpus")
hashes_of "${files[@]}" >"$TEST_TMP/expected"
n=$(wc -l <"$TEST_TMP/expected")

# check_after WHEN: nothing lost, nothing twice in the folder.
check_after() {
	local dump=$TEST_TMP/dump$PV_N rc
	imapdump dump "$t" --folder Killed >"$dump"
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 2 ] || fail "imapdump dump failed ($rc) after $1"
	cut -d' ' -f1 "$dump" | sort >"$dump.hashes"
	[ -z "$(uniq -d "$dump.hashes")" ] || fail "a message twice in the folder after $1"
	{
		maildir_hashes "$u"
		cat "$dump.hashes"
	} | sort -u >"$TEST_TMP/held"
	assert_subset "$TEST_TMP/expected" "$TEST_TMP/held" "after $1"
	log "after $1: $(maildir_count "$u") on the server, $(wc -l <"$dump.hashes") in the folder"
}

# kill_mode MODE: imap, or archive (both sinks)
kill_mode() {
local mode=$1 when pid
local -a extra=()
u=$(new_account "a$mode")
t=$(new_account "t$mode")
POPVAULT_PASSWORD=$(password_of "$u")
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
seed "$u" "${files[@]}"
from=$(url_pop3s "$u")
to=$(url_imaps "$t" Killed)
STATE=$TEST_TMP/state-$mode.db
ARCH=$TEST_TMP/archive-$mode
[ "$mode" = archive ] && extra=(--archive "$ARCH")
for when in 0.1 0.2 0.3 0.45 0.6; do
	PV_N=$((PV_N + 1))
	log "run $PV_N: popvault migrate --delete (to be killed at ${when}s)"
	"$POPVAULT" migrate --state "$STATE" --cafile "$CA_FILE" --delete \
		--target-window 4 --volume-size 1M "${extra[@]}" \
		--from "$from" --to "$to" \
		</dev/null >"$TEST_TMP/run$PV_N.out" 2>"$TEST_TMP/run$PV_N.err" &
	pid=$!
	sleep "$when"
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		log "killed at ${when}s"
	else
		log "run had already ended before ${when}s"
	fi
	wait "$pid" 2>/dev/null
	show "$TEST_TMP/run$PV_N.err" 5
	sleep 0.2 # Dovecot notices the dropped connections on its own
	check_after "the kill at ${when}s"
done

migrate --delete "${extra[@]}" --from "$from" --to "$to"
expect_rc 0 "the final run ($mode)"
imap_dump "$t" Killed "$TEST_TMP/final-$mode"
assert_folder_exactly "$TEST_TMP/expected" "$TEST_TMP/final-$mode" \
	"folder after the kills ($mode)"
assert_eq "$n" "$(imapdump count "$t" --folder Killed)" "messages in the folder ($mode)"
assert_eq 0 "$(maildir_count "$u")" "left on the POP3 server ($mode)"
assert_state_sane "$STATE"
if [ "$mode" = archive ]; then
	archive_check "$ARCH"
	assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" \
		"archive after the kills"
fi
}

kill_mode imap
kill_mode archive
exit 0
