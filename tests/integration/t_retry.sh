# --retries: an account whose run fails on the network is run again, and
# each attempt resumes where the last stopped.  Through the fault proxy in
# front of Dovecot (the fault strikes the chosen connections only):
#  - the first connection dropped: the retry completes the backup, exit 0;
#  - a --delete run cut in the middle of a RETR: the retry resumes, every
#    message archived once, the mailbox emptied, exit 0;
#  - every attempt failing: 75 after exactly 1 + N connections;
#  - a wrong password: 77 after one connection (never retried);
#  - SIGINT while waiting to retry: 75 at once.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
corpus=$TEST_TMP/corpus
gen_corpus "$corpus" --count 30 --seed 17 --size-mix large
mapfile -t files < <(corpus_files "$corpus")
seed "$u" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
mkdir -p "$ARCH"
conns() { grep -c ' !OPEN$\| !DROP at accept$' "$PX_LOG"; }

proxy_start "$POP3S_PORT" --proto pop3 "${PX_TLS[@]}" --drop-conn 1
backup --retries 2 --retry-delay 1s --from "pop3s://$u@$HOST:$PX_PORT"
expect_rc 0 "the first connection dropped, then a retry"
assert_grep "$PV_ERR" "account $u@$HOST:$PX_PORT: .*trying again in 1s \(1 of 2\)" \
	"stderr says it tries again"
assert_eq 2 "$(conns)" "connections"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive after the retry"

# A --delete run cut in the middle of its 8th RETR (fresh state and archive).
rm -rf "$ARCH" "$STATE"
mkdir -p "$ARCH"
proxy_start "$POP3S_PORT" --proto pop3 "${PX_TLS[@]}" --at RETR 8 cut:300
backup --delete --volume-size 1M --retries 1 --retry-delay 1s --json \
	--from "pop3s://$u@$HOST:$PX_PORT"
expect_rc 0 "a --delete run cut mid-RETR, then a retry"
assert_grep "$PX_LOG" "^1 !CUT" "the first connection was cut"
assert_eq 2 "$(conns)" "connections"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive after the resumed run"
assert_eq 0 "$(maildir_count "$u")" "messages left on the server"
json_check "$PV_OUT" "j['accounts'][0]['deleted'] == 30 and j['accounts'][0]['status'] == 'ok'" \
	"the JSON sums the attempts"
seed "$u" "${files[@]:0:3}"

# Every attempt fails: 75 after 1 + 2 connections, delays 1s then 2s.
proxy_start "$POP3S_PORT" --proto pop3 "${PX_TLS[@]}" --conn 0 --at CAPA 1 close
t0=$(date +%s)
backup --retries 2 --retry-delay 1s --from "pop3s://$u@$HOST:$PX_PORT"
secs=$(($(date +%s) - t0))
expect_rc 75 "every attempt failing"
assert_eq 3 "$(conns)" "connections for --retries 2"
assert_grep "$PV_ERR" "trying again in 2s \(2 of 2\)" "the delay doubles"
[ "$secs" -ge 3 ] || fail "three attempts took ${secs}s: the delays were not waited"

# A wrong password is not retried.
proxy_start "$POP3S_PORT" --proto pop3 "${PX_TLS[@]}"
POPVAULT_PASSWORD=wrong-$RANDOM backup --retries 3 --retry-delay 1s \
	--from "pop3s://$u@$HOST:$PX_PORT"
expect_rc 77 "a wrong password"
assert_eq 1 "$(conns)" "connections for a refused login"
assert_no_grep "$PV_ERR" "trying again" "a retry after a refused login"

# SIGINT while waiting to retry stops at once.
proxy_start "$POP3S_PORT" --proto pop3 "${PX_TLS[@]}" --drop-conn 1
PV_N=$((PV_N + 1))
"$POPVAULT" backup --archive "$ARCH" --state "$STATE" --cafile "$CA_FILE" \
	--retries 1 --retry-delay 60s --from "pop3s://$u@$HOST:$PX_PORT" \
	</dev/null >"$TEST_TMP/int.out" 2>"$TEST_TMP/int.err" &
pid=$!
i=0
while ! grep -q "trying again" "$TEST_TMP/int.err" && [ "$i" -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
grep -q "trying again" "$TEST_TMP/int.err" || {
	kill "$pid" 2>/dev/null
	fail "no retry announced"
}
kill -INT "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 60 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -0 "$pid" 2>/dev/null && {
	kill -KILL "$pid"
	fail "still waiting 3 s after SIGINT"
}
wait "$pid"
rc=$?
show "$TEST_TMP/int.err" 5
assert_eq 75 "$rc" "exit after SIGINT during the wait"
assert_grep "$TEST_TMP/int.err" "interrupted while waiting to try again" "stderr says so"
assert_eq 1 "$(conns)" "connections after SIGINT during the wait"
exit 0
