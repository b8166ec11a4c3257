# A wrong password fails that account with EX_NOPERM (77) and one clear line
# naming it; the other account in the same run is still backed up.
. "$IT_DIR/lib.sh"

pw=pw-good-$RANDOM$RANDOM
good=$(new_account good "$pw")
bad=$(new_account bad "pw-other-$RANDOM$RANDOM")
mapfile -t files < <(corpus_files)
seed "$bad" "${files[@]:0:5}"
seed "$good" "${files[@]:5:5}"
hashes_of "${files[@]:5:5}" >"$TEST_TMP/expected"
ubad=$(url_pop3s "$bad")
ugood=$(url_pop3s "$good")
mkdir -p "$ARCH"

POPVAULT_PASSWORD=$pw backup --from "$ubad" --from "$ugood"
expect_rc 77 "backup with one wrong password"

acct=$(account_of "$ubad")
n=$(grep -cF "popvault: account $acct:" "$PV_ERR")
[ "$n" -ge 1 ] || fail "no 'popvault: account $acct: ...' line on stderr"
[ "$n" -eq 1 ] || fail "$n lines about $acct on stderr, expected one"
grep -F "popvault: account $acct:" "$PV_ERR" | cut -c$((${#acct} + 20))- |
	grep -Eqi 'auth|password|login|credential|reject' ||
	fail "the error line for $acct does not say it is an authentication failure"
# (The good account gets its own one-line summary with the same prefix.)
pfx="popvault: account $(account_of "$ugood"):"
grep -F "$pfx" "$PV_ERR" | cut -c$((${#pfx} + 1))- |
	grep -Eqi 'auth|password|login' &&
	fail "the good account's line talks about a login problem"

archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" \
	"archive holds exactly the good account's mail"
assert_eq 5 "$(maildir_count "$bad")" "messages on the failed account"
assert_no_secret "$pw" "$bad" "$PV_OUT" "$PV_ERR"
exit 0
