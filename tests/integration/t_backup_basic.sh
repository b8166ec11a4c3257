# Two accounts over POP3S, one message present in both: every message lands
# byte-identical, the shared one is stored once and recorded for both.
. "$IT_DIR/lib.sh"

pw=pw-basic-$RANDOM$RANDOM
a=$(new_account a "$pw")
b=$(new_account b "$pw")
mapfile -t files < <(corpus_files)
a_files=("${files[@]:0:35}")
b_files=("${files[@]:35}" "${files[1]}")
shared=$(hashes_of "${files[1]}")
seed "$a" "${a_files[@]}"
seed "$b" "${b_files[@]}"
hashes_of "${files[@]}" >"$TEST_TMP/expected"
hashes_of "${a_files[@]}" >"$TEST_TMP/expected.a"

ua=$(url_pop3s "$a")
ub=$(url_pop3s "$b")
acct_a=$(account_of "$ua")
acct_b=$(account_of "$ub")
mkdir -p "$ARCH"

POPVAULT_PASSWORD=$pw backup --from "$ua" --from "$ub"
expect_rc 0 "first backup"

archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" \
	"archive vs. the seeded messages"

# The archive holds the exact bytes of every Maildir file (members were
# checked to hash to their names, so equal hashes are equal bytes).
{
	maildir_hashes "$a"
	maildir_hashes "$b"
} | sort -u >"$TEST_TMP/maildir"
assert_same_set "$TEST_TMP/maildir" "$TEST_TMP/archive.hashes" \
	"archive vs. the Maildir files"
# And byte for byte, for the tricky ones: dot lines, long lines, bare CR.
for kind in dots long_lines bare_cr latin1_8bit; do
	f=$("$PYTHON" -c 'import json, sys; print([m["file"] for m in json.load(open(sys.argv[1])) if m["kind"] == sys.argv[2]][0])' \
		"$CORPUS_DIR/corpus.json" "$kind")
	h=$(sha256sum <"$CORPUS_DIR/$f" | cut -d' ' -f1)
	m=$(find "$TEST_TMP/extract" -name "$h.eml" | head -n 1)
	[ -n "$m" ] || fail "$kind message ($f) not in the archive"
	cmp "$CORPUS_DIR/$f" "$m" || fail "$kind message ($f) differs in the archive"
done

# Volumes are named after their account; members sit under the account.
safe_a=$(account_safe "$acct_a")
safe_b=$(account_safe "$acct_b")
for v in $(archive_volumes "$ARCH"); do
	case $(basename "$v") in
	"$safe_a"-* | "$safe_b"-*) ;;
	*) fail "volume $(basename "$v") is not named after an account" ;;
	esac
done
for h in $(comm -23 "$TEST_TMP/expected.a" <(echo "$shared")); do
	assert_eq "$safe_a" "$(member_account "$h")" "directory of a message of $a"
done

# GNU tar lists the same members.
n=0
for v in $(archive_volumes "$ARCH"); do
	tar -tzf "$v" >"$TEST_TMP/tar.list" || fail "tar -tzf $(basename "$v") failed"
	n=$((n + $(grep -c '\.eml$' "$TEST_TMP/tar.list")))
done
assert_eq "$(wc -l <"$TEST_TMP/expected")" "$n" "members listed by tar -tzf"

# State: one row per (account, message), all done, the shared blob once.
assert_state_sane "$STATE"
assert_eq 35 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE account = '$acct_a' AND state = 1")" \
	"done rows for $acct_a"
assert_eq 26 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE account = '$acct_b' AND state = 1")" \
	"done rows for $acct_b"
assert_eq 60 "$(sql "$STATE" "SELECT count(*) FROM blobs")" "blobs"
assert_eq 2 "$(sql "$STATE" "SELECT count(DISTINCT account) FROM messages WHERE $(sha_is "$shared")")" \
	"accounts recorded for the shared message"
assert_eq 1 "$(sql "$STATE" "SELECT count(*) FROM blobs WHERE $(sha_is "$shared")")" \
	"blobs for the shared message"

# No --delete: the server still has everything.
assert_eq 35 "$(maildir_count "$a")" "messages left on $a"
assert_eq 26 "$(maildir_count "$b")" "messages left on $b"

# Implicit TLS really was used.
sleep 0.3
grep -F "Login: user=<$a>" "$DOVECOT_LOG" | grep -q TLS ||
	fail "no TLS login of $a in the Dovecot log"
exit 0
