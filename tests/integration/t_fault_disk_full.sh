# The archive's disk fills up in the middle of a --delete run (a 2 MiB
# tmpfs; 4 MB of mail in volumes of 1 MiB, uncompressed): exit 74 (local
# I/O) naming the cause; every message is still on the server or in a
# complete volume, no partial volume is left looking complete, only
# messages of complete volumes are deleted, and the state holds no pending
# volume.  With the disk grown, the re-run archives the rest once each and
# empties the mailbox.  Needs root (mount); skipped otherwise.
. "$IT_DIR/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
ARCH=$TEST_TMP/small
mkdir -p "$ARCH"
mount -t tmpfs -o size=2m,mode=0700 popvault-test "$ARCH" 2>"$TEST_TMP/mount.err" ||
	skip "cannot mount a tmpfs: $(cat "$TEST_TMP/mount.err")"
trap 'umount "$ARCH" 2>/dev/null; himap_stop; hostile_stop' EXIT

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
mapfile -t files < <(corpus_files)
seed "$u" "${files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
url=$(url_pop3s "$u")

backup --delete --compress none --volume-size 1M --from "$url"
expect_rc 74 "backup onto a full disk"
assert_grep "$PV_ERR" "No space left on device" "stderr says why"
archive_check "$ARCH"
{
	maildir_hashes "$u"
	cat "$TEST_TMP/archive.hashes"
} | sort -u >"$TEST_TMP/held"
assert_subset "$TEST_TMP/expected" "$TEST_TMP/held" "after the disk filled"
# What was deleted is exactly what is in a complete volume.
maildir_hashes "$u" >"$TEST_TMP/left"
comm -23 "$TEST_TMP/expected" "$TEST_TMP/left" >"$TEST_TMP/deleted"
assert_subset "$TEST_TMP/deleted" "$TEST_TMP/archive.hashes" "deleted messages archived"
log "$(wc -l <"$TEST_TMP/deleted") message(s) deleted, $(wc -l <"$TEST_TMP/left") left"
[ -s "$TEST_TMP/left" ] || fail "the disk never filled: everything was archived"
assert_eq 0 "$(sql "$STATE" "SELECT count(*) FROM volumes WHERE state = 0")" "pending volumes"
assert_state_sane "$STATE"

mount -o remount,size=64m "$ARCH" || fail "cannot grow the tmpfs"
backup --delete --compress none --volume-size 1M --from "$url"
expect_rc 0 "the re-run with room"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive after the re-run"
assert_eq 0 "$(maildir_count "$u")" "left on the server"
assert_state_settled "$(wc -l <"$TEST_TMP/expected")" "after the re-run"
exit 0
