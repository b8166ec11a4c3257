# The archive directory cannot be written (a read-only mount; root is not
# stopped by file modes): a --delete run exits 74 naming the cause,
# nothing is deleted, nothing recorded as stored; once the directory is
# writable the re-run converges.  Needs root (mount).
. "$IT_DIR/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
ARCH=$TEST_TMP/ro
mkdir -p "$ARCH"
mount -t tmpfs -o size=16m,ro popvault-test "$ARCH" 2>"$TEST_TMP/mount.err" ||
	skip "cannot mount a tmpfs: $(cat "$TEST_TMP/mount.err")"
trap 'umount "$ARCH" 2>/dev/null; himap_stop; hostile_stop' EXIT

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
mapfile -t files < <(corpus_small "$CORPUS_DIR")
files=("${files[@]:0:8}")
seed "$u" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
url=$(url_pop3s "$u")

backup --delete --from "$url"
expect_rc 74 "backup into a read-only archive directory"
assert_grep "$PV_ERR" "Read-only file system" "stderr says why"
assert_eq 8 "$(maildir_count "$u")" "messages left on the server"
if [ -f "$STATE" ]; then
	assert_eq 0 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE state = 1")" "done rows"
	assert_eq 0 "$(sql "$STATE" "SELECT count(*) FROM volumes")" "volumes recorded"
fi

mount -o remount,rw "$ARCH" || fail "cannot make the tmpfs writable"
backup --delete --from "$url"
expect_rc 0 "the re-run with a writable directory"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive after the re-run"
assert_eq 0 "$(maildir_count "$u")" "left on the server"
assert_state_settled "$(wc -l <"$TEST_TMP/expected")" "after the re-run"
exit 0
