# A second run fetches nothing; five new messages are exactly five fetched.
. "$IT_DIR/lib.sh"

u=$(new_account a)
export POPVAULT_PASSWORD
POPVAULT_PASSWORD=$(password_of "$u")
mapfile -t files < <(corpus_files)
seed "$u" "${files[@]:0:30}"
url=$(url_pop3s "$u")
mkdir -p "$ARCH"

backup --json --from "$url"
expect_rc 0 "first run"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == 30" "first run fetched 30"
nvol=$(archive_volumes "$ARCH" | wc -l)
[ "$nvol" -ge 1 ] || fail "first run wrote no volume"

backup --json --from "$url"
expect_rc 0 "second run"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == 0 and j['accounts'][0]['stored'] == 0" \
	"second run fetched nothing"
json_check "$PV_OUT" "j['accounts'][0]['seen'] == 30" "second run saw 30"
assert_eq "$nvol" "$(archive_volumes "$ARCH" | wc -l)" \
	"volumes after a run with nothing new"

seed "$u" "${files[@]:30:5}"
backup --json --from "$url"
expect_rc 0 "third run"
json_check "$PV_OUT" "j['accounts'][0]['fetched'] == 5 and j['accounts'][0]['stored'] == 5" \
	"third run fetched and stored the 5 new messages"

archive_check "$ARCH"
hashes_of "${files[@]:0:35}" >"$TEST_TMP/expected"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive"
assert_state_sane "$STATE"
assert_eq 35 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE state = 1")" "done rows"
exit 0
