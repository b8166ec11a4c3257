# A line that never ends: the server sends 128 MiB of 'x' without a line
# end (64 MiB more than the memory limit below), then keeps the connection
# open in silence: in the greeting, in the answer to CAPA, to USER, to
# UIDL, in the middle of the UIDL listing and in the answer to RETR.
# Each time popvault gives up promptly (bounded by its timeouts) with a
# non-zero exit and one line naming the account, its memory stays bounded
# (peak RSS measured), nothing is deleted, recorded or archived; the re-run
# against a sane server converges.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

mapfile -t files < <(corpus_small "$CORPUS_DIR")
files=("${files[@]:0:6}")
mkdir -p "$HP_DIR" "$ARCH"
cp "${files[@]}" "$HP_DIR/"
hashes_of "${files[@]}" >"$TEST_TMP/expected"

RSS_MAX_KB=$((64 * 1024))
# An ASan/UBSan build maps shadow memory: allow it more.
if grep -aqF __asan_init "$POPVAULT" 2>/dev/null; then
	RSS_MAX_KB=$((96 * 1024))
fi
# More than the limit, so that a client keeping the line would fail it.
ENDLESS=$(((RSS_MAX_KB + 64 * 1024) * 1024))

# measured_backup ARGS...: hostile_backup under /usr/bin/time; sets RSS_KB
# (peak resident set of popvault, KiB; empty without /usr/bin/time).
measured_backup() {
	local real=$POPVAULT wrap=$TEST_TMP/measured.sh out
	out=$TEST_TMP/rss.$((PV_N + 1))
	RSS_KB=
	if [ -x /usr/bin/time ]; then
		printf '#!/bin/sh\nexec /usr/bin/time -f %%M -o "%s" "%s" "$@"\n' \
			"$out" "$real" >"$wrap"
		chmod +x "$wrap"
		POPVAULT=$wrap hostile_backup "$@"
		RSS_KB=$(tail -n 1 "$out" 2>/dev/null)
	else
		hostile_backup "$@"
	fi
}

# endless WHERE EXIT [ARGS...]: one --delete run against a server whose
# line at WHERE never ends; it must exit EXIT.
endless() {
	local where=$1 want=$2 t0 secs
	shift 2
	hostile_start --endless-line "$where" --endless-bytes "$ENDLESS"
	t0=$(date +%s)
	measured_backup --delete --timeout 5s --connect-timeout 5s "$@"
	secs=$(($(date +%s) - t0))
	log "endless $where: exit $PV_RC after ${secs}s, peak RSS ${RSS_KB:-?} KiB"
	expect_rc "$want" "endless line at $where"
	[ "$secs" -le 20 ] || fail "endless line at $where: gave up after ${secs}s"
	assert_grep "$HP_LOG" "^1 !ENDLESS $where " "the server sent an endless line at $where"
	if [ -n "$RSS_KB" ]; then
		[ "$RSS_KB" -le "$RSS_MAX_KB" ] ||
			fail "endless line at $where: peak RSS $RSS_KB KiB > $RSS_MAX_KB KiB"
	fi
	# One line naming the account and what went wrong.
	grep -v '^popvault: created state ' "$PV_ERR" >"$PV_ERR.rest"
	assert_eq 1 "$(grep -c . "$PV_ERR.rest")" "stderr lines after an endless line at $where"
	assert_grep "$PV_ERR.rest" "^popvault: account hostile@$HOST:$HP_PORT: " \
		"stderr names the account ($where)"
	[ "$(wc -c <"$PV_ERR.rest")" -le 400 ] ||
		fail "stderr is $(wc -c <"$PV_ERR.rest") bytes ($where)"
	assert_no_grep "$PV_ERR" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
		"stderr quotes the endless line ($where)"
	assert_no_grep "$HP_LOG" "DELE" "DELE after an endless line at $where"
	assert_no_grep "$HP_LOG" "QUIT" "QUIT after an endless line at $where"
	[ "$where" = retr-status ] ||
		assert_no_grep "$HP_LOG" "RETR" "RETR after an endless line at $where"
	assert_eq 6 "$(hostile_count)" "messages left on the server ($where)"
	assert_eq 0 "$(archive_volumes "$ARCH" | wc -l)" "volumes written ($where)"
	if [ -f "$STATE" ]; then
		assert_eq 0 "$(sql "$STATE" "SELECT count(*) FROM messages")" \
			"messages recorded ($where)"
	fi
	hostile_stop
}

# libcurl reads the greeting and the first CAPA, and gives up past 300 KiB
# of response ("Too large response headers"): a broken server, 76.
# popvault's own reader (the answer to USER with --auth USER, the UIDL
# status and listing lines, RETR's status) stops at 8 KiB: 76 too.
endless greeting 76
assert_grep "$PV_ERR" "[Tt]oo large|too long" "stderr says the greeting is too long"
endless capa 76
assert_grep "$PV_ERR" "[Tt]oo large|too long" "stderr says the CAPA line is too long"
endless user 76 --auth USER
assert_grep "$PV_ERR" "too long" "stderr says the line is too long (USER)"
endless uidl-status 76
assert_grep "$PV_ERR" "UIDL.*too long" "stderr says the UIDL line is too long"
endless uidl 76
assert_grep "$PV_ERR" "UIDL.*too long" "stderr says the UIDL line is too long"
endless retr-status 76
assert_grep "$PV_ERR" "RETR 1: line too long" "stderr says the RETR line is too long"

hostile_start
hostile_backup --delete
expect_rc 0 "re-run against a sane server"
hostile_nothing_lost "$TEST_TMP/expected" "the re-run"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(hostile_count)" "messages left on the server"
assert_state_settled 6 "after the re-run"
exit 0
