# migrate driven by a config file alone: two accounts, the target, its
# password command, one folder per account and no flags all come from the
# file; the command line names nothing but the file.  Each account's
# messages land in its own folder under the target folder; a second run
# uploads nothing.  A bad target URL in the file is a config error (78)
# naming file and line.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

a=$(new_account a)
b=$(new_account b)
t=$(new_account t)
mapfile -t files < <(corpus_small "$CORPUS_DIR")
seed "$a" "${files[@]:0:5}"
seed "$b" "${files[@]:5:4}"
hashes_of "${files[@]:0:5}" >"$TEST_TMP/expected.a"
hashes_of "${files[@]:5:4}" >"$TEST_TMP/expected.b"
printf '%s\n' "$(password_of "$t")" >"$TEST_TMP/target.pw"
chmod 0600 "$TEST_TMP/target.pw"

conf=$TEST_TMP/migrate.conf
cat >"$conf" <<EOC
defaults
state $STATE
cafile $CA_FILE
target imaps://$t@127.0.0.1:$IMAPS_PORT/Moved
target_passwordeval "cat $TEST_TMP/target.pw"
target_cafile $CA_FILE
target_per_account yes
target_flags none

account first
from pop3s://$a@127.0.0.1:$POP3S_PORT
passwordeval "echo $(password_of "$a")"

account second
from pop3s://$b@127.0.0.1:$POP3S_PORT
passwordeval "echo $(password_of "$b")"
EOC

run_pv -C "$conf" migrate --json
expect_rc 0 "migrate from the config"
json_check "$PV_OUT" "[x['uploaded'] for x in j['accounts']] == [5, 4]" "uploaded per account"

delim=$(imap_delimiter "$t")
imapdump list "$t" >"$TEST_TMP/folders" || fail "imapdump list failed"
show "$TEST_TMP/folders"
for acct in first second; do
	grep -qxF "Moved${delim}$acct" "$TEST_TMP/folders" ||
		fail "no folder Moved${delim}$acct"
done
imap_dump "$t" "Moved${delim}first" "$TEST_TMP/first"
assert_folder_exactly "$TEST_TMP/expected.a" "$TEST_TMP/first" "folder of the first account"
imap_dump "$t" "Moved${delim}second" "$TEST_TMP/second"
assert_folder_exactly "$TEST_TMP/expected.b" "$TEST_TMP/second" "folder of the second account"
# target_flags none: no \Seen.
grep -q '(\\Seen)' "$TEST_TMP/first" && fail "target_flags none still set \\Seen"

run_pv -C "$conf" migrate --json
expect_rc 0 "second migrate from the config"
json_check "$PV_OUT" "sum(x['uploaded'] for x in j['accounts']) == 0 and sum(x['known'] for x in j['accounts']) == 9" \
	"nothing uploaded again"

# verify --to takes the target's password and CA from the config.
run_pv -C "$conf" verify --archive "$TEST_TMP/no-archive" \
	--to "imaps://$t@127.0.0.1:$IMAPS_PORT/Moved.first" 2>/dev/null
expect_rc 74 "verify without the archive directory"
mkdir -p "$TEST_TMP/empty-archive"
run_pv -C "$conf" verify --archive "$TEST_TMP/empty-archive" \
	--to "imaps://$t@127.0.0.1:$IMAPS_PORT/Moved${delim}first" --json
expect_rc 0 "verify --to with the config's target password"
json_check "$PV_OUT" "j['target']['expected'] == 5 and j['target']['present'] == 5" \
	"the first folder as recorded"

sed -i "s|^target imaps://.*|target imaps://$t@127.0.0.1:$IMAPS_PORT/Moved?x|" "$conf"
run_pv -C "$conf" migrate
expect_rc 78 "a bad target in the config"
assert_grep "$PV_ERR" "migrate\\.conf:4: .*target" "the error names file, line and key"
exit 0
