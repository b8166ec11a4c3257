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

# Allowing plaintext is not refusing TLS: where STLS is offered it is used.
backup --allow-plaintext --from "$(url_stls "$u")"
expect_rc 0 "pop3:// --allow-plaintext to a server offering STLS"
sleep 0.3
assert_grep "$DOVECOT_LOG" "Login: user=<$u>, .*, TLS, " \
    "a TLS login on the STLS port although plaintext was allowed"

# 'tls off' (with allow_plaintext) means no TLS at all, even where offered.
cat >"$TEST_TMP/config" <<EOF
account off
host $HOST
port $POP3_PORT
user $u
tls off
allow_plaintext yes
EOF
before=$(grep -c "Login: user=<$u>" "$DOVECOT_LOG")
backup -C "$TEST_TMP/config"
expect_rc 0 "tls off with allow_plaintext"
sleep 0.3
grep "Login: user=<$u>" "$DOVECOT_LOG" | tail -n +$((before + 1)) >"$TEST_TMP/logins"
assert_eq 1 "$(wc -l <"$TEST_TMP/logins")" "new logins on the main server"
assert_no_grep "$TEST_TMP/logins" ", TLS, " "TLS with 'tls off'"
exit 0
