# SIGKILL at several moments of a --delete run, then a normal run: nothing
# lost at any moment (every message is on the server or in a volume),
# nothing stored twice, no duplicate state rows, the mailbox empty at the end.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
big=$TEST_TMP/corpus
gen_corpus "$big" --count 300 --seed 7 --size-mix large
mapfile -t files < <(corpus_files "$big")
seed "$u" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
url=$(url_pop3s "$u")
mkdir -p "$ARCH"

# check_nothing_lost WHEN: every seeded message is on the server or archived.
check_nothing_lost() {
	archive_check "$ARCH"
	{
		maildir_hashes "$u"
		cat "$TEST_TMP/archive.hashes"
	} | sort -u >"$TEST_TMP/held"
	assert_subset "$TEST_TMP/expected" "$TEST_TMP/held" "after $1"
	[ ! -f "$STATE" ] || assert_state_sane "$STATE"
	log "after $1: $(maildir_count "$u") on the server, $(wc -l <"$TEST_TMP/archive.hashes") archived"
}

# kill_run WHEN: start a --delete run, SIGKILL it at WHEN: seconds, or "vN"
# = as soon as N more complete volumes have appeared.  Small volumes
# (--volume-size 1M) give a run many commit points to be killed between.
kill_run() {
	local when=$1 pid i
	PV_N=$((PV_N + 1))
	log "run $PV_N: popvault backup --delete (to be killed at $when)"
	"$POPVAULT" backup --archive "$ARCH" --state "$STATE" --cafile "$CA_FILE" \
		--delete --volume-size 1M --from "$url" \
		</dev/null >"$TEST_TMP/run$PV_N.out" 2>"$TEST_TMP/run$PV_N.err" &
	pid=$!
	if [ "${when#v}" != "$when" ]; then
		local target
		target=$(($(archive_volumes "$ARCH" | wc -l) + ${when#v}))
		i=0
		while [ "$(archive_volumes "$ARCH" | wc -l)" -lt "$target" ] &&
			kill -0 "$pid" 2>/dev/null && [ "$i" -lt 600 ]; do
			sleep 0.02
			i=$((i + 1))
		done
	else
		sleep "$when"
	fi
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		log "killed at $when"
	else
		log "run had already ended before $when"
	fi
	wait "$pid" 2>/dev/null
	show "$TEST_TMP/run$PV_N.err" 10
	# Dovecot notices the dropped connection on its own; give it a moment
	# so the next run does not race the old session.
	sleep 0.3
}

for when in 0.05 v1 v2 0.2 v1 v1; do
	kill_run "$when"
	check_nothing_lost "kill at $when"
done

backup --delete --volume-size 1M --from "$url"
expect_rc 0 "the resumed run"
check_nothing_lost "the resumed run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(maildir_count "$u")" "messages left on the server"
partial=$(find "$ARCH" -name '.*' -type f)
[ -z "$partial" ] || fail "temporary files left after the resumed run: $partial"
assert_eq 300 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE state = 1")" "done rows"
assert_eq 300 "$(sql "$STATE" "SELECT count(*) FROM blobs")" "blobs"
exit 0
