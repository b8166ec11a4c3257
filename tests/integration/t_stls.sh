# pop3:// upgrades with STLS on a server that offers it, and verifies the
# certificate against --cafile.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
mapfile -t files < <(corpus_files)
seed "$u" "${files[@]:0:20}"
hashes_of "${files[@]:0:20}" >"$TEST_TMP/expected"
mkdir -p "$ARCH"

backup --from "$(url_stls "$u")"
expect_rc 0 "pop3:// with STLS"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive"
sleep 0.3
grep -F "Login: user=<$u>" "$DOVECOT_LOG" | grep -q TLS ||
	fail "the login of $u was not over TLS (Dovecot log)"
exit 0
