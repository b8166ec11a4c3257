# status --check [--max-age D]: exit 0 when every account's last run was
# good (and, with --max-age, ended within D); exit 1 with one "STALE"
# line per account when its last good run is too old (the state's run
# time moved back with sqlite3, or a short --max-age after a sleep), when
# its last run failed (its server on a port nothing listens on), or when
# it was never backed up (in the config, unknown to the state).  The
# table shows the age and the last error; the JSON validates against
# docs/popvault-report.schema.json.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

pw=pw-scheck-$RANDOM$RANDOM
ua=$(new_account a "$pw")
ub=$(new_account b "$pw")
mapfile -t small < <(corpus_small "$CORPUS_DIR")
seed "$ua" "${small[@]:0:3}"
seed "$ub" "${small[@]:3:2}"
export POPVAULT_PASSWORD=$pw
port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$ARCH"

# conf B_URL: accounts a, b (at B_URL) and c (never backed up here).
conf() {
	cat <<EOC
defaults
archive $ARCH
state $STATE
cafile $CA_FILE
timeout 10s

account a
from $(url_pop3s "$ua")

account b
from $1

account c
from pop3s://c-never@127.0.0.1:$port
EOC
}
conf "$(url_pop3s "$ub")" >"$TEST_TMP/good.conf"
conf "pop3s://$ub@127.0.0.1:$port" >"$TEST_TMP/down.conf"

# check_lines N WHAT: stdout has exactly N "STALE " lines.
check_lines() {
	assert_eq "$1" "$(grep -c '^STALE ' "$PV_OUT")" "STALE lines $2"
}

run_pv -C "$TEST_TMP/good.conf" backup a b
expect_rc 0 "backup of a and b"

# Fresh.
run_pv status --state "$STATE" --check --max-age 1h
expect_rc 0 "status --check after a good run"
check_lines 0 "after a good run"
assert_grep "$PV_OUT" "^OK: 2 account" "the OK line"

# An account of the config that was never backed up.
run_pv -C "$TEST_TMP/good.conf" status --check --max-age 1h
expect_rc 1 "status --check with an account never backed up"
check_lines 1 "with c never backed up"
assert_grep "$PV_OUT" "^STALE c: never backed up" "the line for c"

# Too old: a's last good run moved two hours back in the state.
sql "$STATE" "UPDATE run_accounts SET started = started - 7200, ended = ended - 7200 WHERE account = 'a'"
run_pv status --state "$STATE" --check --max-age 1h
expect_rc 1 "status --check --max-age 1h, a's run 2 h old"
check_lines 1 "with a 2 h old"
assert_grep "$PV_OUT" "^STALE a: last good run ended .*, 2h0m ago: older than --max-age 1h0m" "the line for a"
run_pv status --state "$STATE" --check --max-age 3h
expect_rc 0 "status --check --max-age 3h"
run_pv status --state "$STATE"
expect_rc 0 "status"
assert_grep "$PV_OUT" "^ACCOUNT .* LAST OK +AGE +LAST FAILED" "the AGE column"
assert_grep "$PV_OUT" "^a .* 2h0m " "a's age in the table"

# Too old, by waiting: --max-age 1s after 2 s.
sleep 2
run_pv status --state "$STATE" --check --max-age 1s
expect_rc 1 "status --check --max-age 1s after 2 s"
check_lines 2 "with --max-age 1s"

# The last run failed: b's server is on a port nothing listens on.
run_pv -C "$TEST_TMP/down.conf" backup b
expect_rc 75 "backup of b, its server down"
run_pv status --state "$STATE" --check
expect_rc 1 "status --check after b failed"
check_lines 1 "after b failed"
assert_grep "$PV_OUT" "^STALE b: last run failed at .* \\(net\\): .*$port" "the line for b names the failure"
run_pv status --state "$STATE"
expect_rc 0 "status after b failed"
assert_grep "$PV_OUT" "^  last error: .*$port" "the table shows b's last error"

# The JSON of --check validates, and says the same.
run_pv -C "$TEST_TMP/good.conf" status --json --check --max-age 1h
expect_rc 1 "status --json --check"
"$PYTHON" - "$IT_DIR/../../docs/popvault-report.schema.json" "$PV_OUT" <<'EOF' ||
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(0)  # t_json_schema.sh skips (and fails in CI) without it
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
errs = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
for e in errs[:5]:
    print("    %s: %s" % ("/".join(map(str, e.absolute_path)), e.message[:300]))
sys.exit(1 if errs else 0)
EOF
	fail "status --json --check does not validate against the schema"
json_check "$PV_OUT" "j['check'] == {'ok': False, 'max_age_seconds': 3600, 'stale': 3} and {a['account']: a['last_status'] for a in j['accounts']} == {'a': 'ok', 'b': 'net', 'c': None}" \
	"status --json --check: a too old, b failed, c never"
json_check "$PV_OUT" "[a for a in j['accounts'] if a['account'] == 'a'][0]['age_seconds'] >= 7200" \
	"a's age_seconds"

# b back up: its latest run is good again, even in the same second.
run_pv -C "$TEST_TMP/good.conf" backup b
expect_rc 0 "backup of b, its server back"
run_pv status --state "$STATE" --check
expect_rc 0 "status --check after b recovered"
run_pv status --state "$STATE"
assert_grep "$PV_OUT" "last error \\(a later run succeeded\\): .*$port" "the old error, marked"

# Usage and a missing state.
run_pv status --state "$STATE" --check --max-age soon
expect_rc 64 "--max-age soon"
run_pv status --state "$TEST_TMP/nothing.db" --check
expect_rc 78 "status --check without a state"
exit 0
