# --allow-plaintext is the one way to talk to a server without TLS.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
mapfile -t files < <(corpus_files)
seed "$u" "${files[@]:0:20}"
hashes_of "${files[@]:0:20}" >"$TEST_TMP/expected"
mkdir -p "$ARCH"

backup --allow-plaintext --from "$(url_notls "$u")"
expect_rc 0 "pop3:// --allow-plaintext to a server without TLS"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive"
sleep 0.3
assert_grep "$DOVECOT_NOTLS_LOG" "Login: user=<$u>" "a login on the no-TLS server"
exit 0
