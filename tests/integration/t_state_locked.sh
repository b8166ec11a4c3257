# Two runs never work on one state db: while another process holds the run
# lock (STATE.lock, docs/STATE.md §2) a backup exits EX_UNAVAILABLE (69) at
# once with a clear message, and touches neither archive nor server.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
mapfile -t files < <(corpus_files)
seed "$u" "${files[@]:0:5}"
url=$(url_pop3s "$u")
mkdir -p "$ARCH"
backup --from "$url"
expect_rc 0 "first backup"
seed "$u" "${files[@]:5:3}"
nvol=$(archive_volumes "$ARCH" | wc -l)

# Hold the lock from another process (an fcntl write lock conflicts with
# popvault's OFD lock) until told to stop, bounded.
"$PYTHON" - "$STATE.lock" "$TEST_TMP/locked" "$TEST_TMP/release" <<'EOP' &
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
open(sys.argv[2], "w").close()
for _ in range(600):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
EOP
holder=$!
i=0
until [ -e "$TEST_TMP/locked" ]; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "could not take the lock for the test"
	sleep 0.05
done

start=$(date +%s)
backup --from "$url"
touch "$TEST_TMP/release"
wait "$holder"
expect_rc 69 "backup while the state is locked"
[ $(($(date +%s) - start)) -le 5 ] || fail "a locked state was waited for"
assert_grep "$PV_ERR" "in use|locked|another" "the message says the state is in use"
assert_eq "$nvol" "$(archive_volumes "$ARCH" | wc -l)" "volumes after the refused run"
assert_eq 8 "$(maildir_count "$u")" "messages on the server"

# The lock released, the same command works.
backup --json --from "$url"
expect_rc 0 "backup after the lock is released"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == 3" "the 3 new messages"
exit 0
