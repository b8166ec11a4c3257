# A config file with two accounts (a password inside: mode 0600 required);
# the same file readable by others is refused with EX_CONFIG (78); a 0644
# file that uses passwordeval is fine.
. "$IT_DIR/lib.sh"

p1=pw-c1-$RANDOM$RANDOM
p2=pw-c2-$RANDOM$RANDOM
u1=$(new_account one "$p1")
u2=$(new_account two "$p2")
mapfile -t files < <(corpus_files)
seed "$u1" "${files[@]:0:6}"
seed "$u2" "${files[@]:6:4}"
hashes_of "${files[@]:0:10}" >"$TEST_TMP/expected"
mkdir -p "$ARCH"

conf=$TEST_TMP/popvault.conf
cat >"$conf" <<EOC
# popvault test configuration
defaults
archive $ARCH
state $STATE
cafile $CA_FILE

account first
from pop3s://$u1@127.0.0.1:$POP3S_PORT
password $p1

account second
host 127.0.0.1
port $POP3_PORT
user $u2
tls starttls
password $p2
EOC

chmod 0644 "$conf"
run_pv -C "$conf" backup
expect_rc 78 "config with a password, mode 0644"
assert_grep "$PV_ERR" "popvault\\.conf" "the error names the file"
assert_eq 0 "$(archive_volumes "$ARCH" | wc -l)" "volumes after a refused config"
assert_no_secret "$p1" "$u1" "$PV_OUT" "$PV_ERR"

chmod 0600 "$conf"
run_pv -C "$conf" backup
expect_rc 0 "config with two accounts, mode 0600"
archive_check "$ARCH"
assert_same_set "$TEST_TMP/expected" "$TEST_TMP/archive.hashes" "archive"
for v in $(archive_volumes "$ARCH"); do
	case $(basename "$v") in
	first-* | second-*) ;;
	*) fail "volume $(basename "$v") is not named after a configured account" ;;
	esac
done
assert_eq 6 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE account = 'first' AND state = 1")" \
	"done rows of account first"
assert_eq 4 "$(sql "$STATE" "SELECT count(*) FROM messages WHERE account = 'second' AND state = 1")" \
	"done rows of account second"
assert_no_secret "$p1" "$u1" "$PV_OUT" "$PV_ERR"
assert_no_secret "$p2" "$u2" "$PV_OUT" "$PV_ERR"

# passwordeval in a world-readable file: no secret in the file, so allowed.
printf '%s\n' "$p1" >"$TEST_TMP/p1"
chmod 0600 "$TEST_TMP/p1"
seed "$u1" "${files[10]}"
conf2=$TEST_TMP/eval.conf
cat >"$conf2" <<EOC
defaults
archive $ARCH
state $STATE
cafile $CA_FILE

account first
from pop3s://$u1@127.0.0.1:$POP3S_PORT
passwordeval "cat $TEST_TMP/p1"
EOC
chmod 0644 "$conf2"
run_pv --config "$conf2" backup --json
expect_rc 0 "0644 config with passwordeval"
json_check "$PV_OUT" "j['accounts'][0]['account'] == 'first' and j['accounts'][0]['fetched'] == 1" \
	"one new message for account first"
exit 0
