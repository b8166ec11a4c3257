# Every --json report validates against docs/popvault-report.schema.json:
# backup (complete, partial with exit 65, an unreachable server with exit
# 75, a dry run), migrate, restore, verify (with --to and --messages),
# rebuild-state (complete and damaged) and status (plain and --check).
# And the schema is strict: each report with any one field removed, or
# with a field added, must fail to validate.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$IT_DIR/lib.sh"

SCHEMA=$IT_DIR/../../docs/popvault-report.schema.json
[ -f "$SCHEMA" ] || fail "no schema at $SCHEMA"
# Debian's python3-jsonschema (packaging/deps.sh): the interpreter it is
# installed for.
"$PYTHON" -c 'import jsonschema' 2>/dev/null ||
	skip "python3-jsonschema is not installed for $PYTHON"

# schema_check FILE WHAT: FILE validates.  With "strict" as a third
# argument, also: every variant with one key of one object removed (the
# first item of each array stands for the others), and every variant with
# an unknown key added to one object, fails.  Keys that are optional in
# the schema on purpose are listed in OPTIONAL (space-separated).
OPTIONAL=
schema_check() {
	OPTIONAL=$OPTIONAL "$PYTHON" - "$SCHEMA" "$1" "${3:-}" <<'EOF' || fail "schema: $2"
import copy, json, os, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2], "rb"))
strict = sys.argv[3] == "strict"
optional = set(os.environ.get("OPTIONAL", "").split())
cls = jsonschema.Draft202012Validator
cls.check_schema(schema)
v = cls(schema, format_checker=jsonschema.FormatChecker())

def errors(d):
    return sorted(v.iter_errors(d), key=lambda e: list(e.absolute_path))

bad = errors(doc)
if bad:
    for e in bad[:10]:
        print("    at %s: %s" % ("/".join(map(str, e.absolute_path)), e.message[:300]))
    print("    document: " + json.dumps(doc)[:2000])
    sys.exit(1)
if not strict:
    sys.exit(0)

def objects(node, path):
    """(path, dict) of every object: all keys, first item of arrays."""
    if isinstance(node, dict):
        yield path, node
        for k, x in node.items():
            yield from objects(x, path + [k])
    elif isinstance(node, list) and node:
        yield from objects(node[0], path + [0])

def at(d, path):
    for p in path:
        d = d[p]
    return d

missed = []
n = 0
for path, obj in list(objects(doc, [])):
    for k in list(obj):
        if k in optional:
            continue
        d = copy.deepcopy(doc)
        del at(d, path)[k]
        n += 1
        if not errors(d):
            missed.append("without %s" % "/".join(map(str, path + [k])))
    d = copy.deepcopy(doc)
    at(d, path)["undocumented"] = 1
    n += 1
    if not errors(d):
        missed.append("with an unknown key in /%s" % "/".join(map(str, path)))
if missed:
    for m in missed[:20]:
        print("    the schema accepts the report " + m)
    sys.exit(1)
print("    strict: %d altered reports refused" % n)
EOF
}

pw=pw-schema-$RANDOM$RANDOM
good=$(new_account good "$pw")
part=$(new_account part "$pw")
t=$(new_account t)
mapfile -t small < <(corpus_small "$CORPUS_DIR")
seed "$good" "${small[@]:0:5}"
# One message over --max-size 40k: left on the server, exit 65.
"$PYTHON" - "$TEST_TMP/big.eml" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: a@example.com\r\nTo: b@example.com\r\nSubject: big\r\n"
            b"Message-ID: <schema.big@example.com>\r\n"
            b"Date: Mon, 4 Mar 2024 10:00:00 +0100\r\n\r\n")
    f.write(b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n" * 1500)
EOF
seed "$part" "${small[@]:5:3}" "$TEST_TMP/big.eml"
ugood=$(url_pop3s "$good")
upart=$(url_pop3s "$part")
port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
unet=pop3s://nobody-here@127.0.0.1:$port
export POPVAULT_PASSWORD=$pw
POPVAULT_TARGET_PASSWORD=$(password_of "$t")
export POPVAULT_TARGET_PASSWORD
mkdir -p "$ARCH"

# backup, complete
backup --json --from "$ugood"
expect_rc 0 "backup --json"
schema_check "$PV_OUT" "backup, complete" strict
json_check "$PV_OUT" "j['schema_version'] == 1 and j['accounts'][0]['stored'] == 5 and j['accounts'][0]['uploaded'] == 0" \
	"backup counts"

# backup, dry run
backup --json --dry-run --from "$ugood"
expect_rc 0 "backup --json --dry-run"
schema_check "$PV_OUT" "backup --dry-run" strict

# backup, partial: one message over --max-size
backup --json --max-size 40k --from "$upart"
expect_rc 65 "backup with a message over --max-size"
schema_check "$PV_OUT" "backup, partial failure" strict
json_check "$PV_OUT" "j['exit'] == 65 and not j['ok'] and j['accounts'][0]['status'] == 'message' and j['accounts'][0]['failed'] == 1 and j['accounts'][0]['stored'] == 3" \
	"partial failure counts"

# backup, a server nobody answers for, beside a good account
backup --json --timeout 10 --from "$unet" --from "$ugood"
expect_rc 75 "backup with an unreachable server"
schema_check "$PV_OUT" "backup, network failure" strict
json_check "$PV_OUT" "j['exit'] == 75 and [a['status'] for a in j['accounts']] == ['net', 'ok'] and isinstance(j['accounts'][0]['error'], str)" \
	"network failure per account"

# migrate
migrate --json --from "$ugood" --to "$(url_imaps "$t" Moved)"
expect_rc 0 "migrate --json"
schema_check "$PV_OUT" "migrate" strict
json_check "$PV_OUT" "j['command'] == 'migrate' and j['accounts'][0]['uploaded'] + j['accounts'][0]['present'] == 5" \
	"migrate counts"

# restore
restore --json --archive "$ARCH" --to "$(url_imaps "$t" Restored)"
expect_rc 0 "restore --json"
schema_check "$PV_OUT" "restore" strict

# verify, plain and with --to and --messages
run_pv verify --json --archive "$ARCH" --state "$STATE"
expect_rc 0 "verify --json"
schema_check "$PV_OUT" "verify" strict
OPTIONAL="target messages"
run_pv verify --json --messages --archive "$ARCH" --state "$STATE" \
	--cafile "$CA_FILE" --to "$(url_imaps "$t" Moved)"
expect_rc 0 "verify --json --to --messages"
json_check "$PV_OUT" "'target' in j and len(j['messages']) > 0" "verify --to --messages has both parts"
schema_check "$PV_OUT" "verify --to --messages" strict
OPTIONAL=

# rebuild-state, complete and with a truncated volume (exit 65)
run_pv rebuild-state --json --archive "$ARCH" --state "$TEST_TMP/rebuilt.db"
expect_rc 0 "rebuild-state --json"
schema_check "$PV_OUT" "rebuild-state" strict
cp -a "$ARCH" "$TEST_TMP/arch.damaged"
vol=$(archive_volumes "$TEST_TMP/arch.damaged" | head -n 1)
truncate -s $(($(stat -c %s "$vol") / 2)) "$vol"
run_pv rebuild-state --json --archive "$TEST_TMP/arch.damaged" \
	--state "$TEST_TMP/rebuilt2.db"
expect_rc 65 "rebuild-state --json with a damaged volume"
json_check "$PV_OUT" "len(j['problems']) > 0" "rebuild-state: a problem reported"
schema_check "$PV_OUT" "rebuild-state, damaged" strict

# status, and status --check (the unreachable and the partial account are
# stale)
run_pv status --json --state "$STATE"
expect_rc 0 "status --json"
schema_check "$PV_OUT" "status" strict
run_pv status --json --check --max-age 1h --state "$STATE"
expect_rc 1 "status --check with stale accounts"
schema_check "$PV_OUT" "status --check" strict
json_check "$PV_OUT" "j['check']['stale'] == 2 and not j['check']['ok'] and j['check']['max_age_seconds'] == 3600" \
	"status --check counts"

# The validator itself: it refuses {} (schema_check fails in a subshell).
echo '{}' >"$TEST_TMP/empty.json"
if (schema_check "$TEST_TMP/empty.json" "{}") >/dev/null; then
	fail "the schema accepts {}"
fi
exit 0
