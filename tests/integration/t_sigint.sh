# SIGINT in the middle of a --delete run: exit EX_TEMPFAIL (75) promptly,
# nothing lost, nothing deleted that is not archived; the next run finishes
# the job without duplicates.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
big=$TEST_TMP/corpus
gen_corpus "$big" --count 200 --seed 5 --size-mix large
mapfile -t files < <(corpus_files "$big")
seed "$u" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
url=$(url_pop3s "$u")
mkdir -p "$ARCH"

PV_N=1
"$POPVAULT" backup --archive "$ARCH" --state "$STATE" --cafile "$CA_FILE" \
	--delete --volume-size 1M --from "$url" \
	</dev/null >"$TEST_TMP/run1.out" 2>"$TEST_TMP/run1.err" &
pid=$!
# Interrupt once the first volume is durable: the run is well under way.
i=0
while [ -z "$(archive_volumes "$ARCH")" ] && kill -0 "$pid" 2>/dev/null &&
	[ "$i" -lt 500 ]; do
	sleep 0.02
	i=$((i + 1))
done
kill -0 "$pid" 2>/dev/null || skip "the run ended before it could be interrupted"
kill -INT "$pid"
sent=$(date +%s%N)
i=0
while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
if kill -0 "$pid" 2>/dev/null; then
	kill -KILL "$pid"
	fail "still running 5 s after SIGINT"
fi
wait "$pid"
rc=$?
ms=$((($(date +%s%N) - sent) / 1000000))
log "exit $rc, ${ms} ms after SIGINT"
show "$TEST_TMP/run1.err" 10
[ "$rc" = 75 ] || fail "exit after SIGINT: expected 75, got $rc"
[ "$ms" -le 2000 ] || fail "took $ms ms to stop after SIGINT"

archive_check "$ARCH"
{
	maildir_hashes "$u"
	cat "$TEST_TMP/archive.hashes"
} | sort -u >"$TEST_TMP/held"
assert_subset "$TEST_TMP/expected" "$TEST_TMP/held" "after SIGINT"
assert_state_sane "$STATE"

backup --delete --volume-size 1M --from "$url"
expect_rc 0 "the run after the interrupted one"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "final archive"
assert_eq 0 "$(maildir_count "$u")" "messages left on the server"
exit 0
