# Bad configuration and bad command lines are refused before any network
# I/O.  Every account (and every target) points at a local TCP listener
# that records each connection; after every case nobody connected.
#  - config files: an unknown key, values of the wrong type (port, tls,
#    delete, delete_after, compress, level, timeout, volume_size, jobs,
#    max_size, target_per_account, a bad from URL, a bad target URL), a
#    key without a value, an unterminated quote, 'account' without a
#    name, an account defined twice, a run key inside an account, an
#    account without host or without user, 'tls off' without
#    allow_plaintext: each is exit 78 (EX_CONFIG) with one line
#    "popvault: FILE:LINE: message", the line being the culprit's (the
#    account's line for what an account lacks); an unknown key the same
#    for backup, migrate, restore and verify.  An empty config file and
#    one that does not exist: 78, one line.  Nothing is created (no state,
#    nothing in the archive).
#  - found when the account runs, still before connecting: no password
#    anywhere, a malformed or unknown auth mechanism: 78, one line naming the
#    account.
#  - command lines: unknown commands and options, bad values, conflicting
#    options, --delete without a destination (backup without an archive,
#    migrate without a target), a target option given to backup, a
#    password inside the target URL, restore with bad days or window:
#    each 64 (EX_USAGE), one error line, no state created.
#  - migrate --dry-run --delete: the source is only listed (nothing
#    deleted, no state created), the target (the listener) not contacted.
# Last, a run that does connect proves that the listener sees connections.
# (Two accounts on one server keep separate state rows: t_config_file and
# t_parallel_accounts check that.)
. "$IT_DIR/lib.sh"

# ---- the listener ----
lport_file=$TEST_TMP/listener.port
conns=$TEST_TMP/listener.log
: >"$conns"
"$PYTHON" -c '
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
s.settimeout(0.2)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
end = time.time() + float(sys.argv[3])
while time.time() < end:
    try:
        c, a = s.accept()
    except socket.timeout:
        continue
    with open(sys.argv[2], "a") as f:
        f.write("connection from %s:%d\n" % a)
    c.close()
' "$lport_file" "$conns" 150 >"$TEST_TMP/listener.out" 2>&1 &
lpid=$!
trap 'kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null' EXIT
LPORT=$(_fake_port "$lpid" "$lport_file" "$TEST_TMP/listener.out" "listener") || exit 1
log "listener (pid $lpid) on port $LPORT"
SRC=pop3s://nobody@$HOST:$LPORT
TGT=imaps://nobody@$HOST:$LPORT/Folder

no_connection() {
	[ -s "$conns" ] || return 0
	show "$conns"
	fail "$1: somebody connected to the listener"
}

# No default config, no password in the environment.
export XDG_CONFIG_HOME=$TEST_TMP/xdg
mkdir -p "$XDG_CONFIG_HOME"
unset POPVAULT_PASSWORD
export POPVAULT_TARGET_PASSWORD=pw-target-never-used
mkdir -p "$ARCH"

# ---- config files ----
# conf NAME: $TEST_TMP/NAME.conf, mode 0600: 9 fixed lines (defaults with
# a target on the listener; a good account on the listener), then stdin,
# whose first line is line 10.
conf() {
	local f=$TEST_TMP/$1.conf
	{
		echo "defaults"
		echo "archive $ARCH"
		echo "state $TEST_TMP/cfg-state.db"
		echo "cafile $CA_FILE"
		echo "target $TGT"
		echo "account good"
		echo "from $SRC"
		echo "password pw-good"
		echo ""
		cat
	} >"$f"
	chmod 0600 "$f"
}

# bad_conf NAME LINE ERE [COMMANDS]: each command (default: backup) with
# -C NAME.conf exits 78 with exactly one line "popvault: [CMD: ]FILE:LINE:
# ..." matching ERE; no state created, nothing in the archive, nobody
# connected.
bad_conf() {
	local f=$TEST_TMP/$1.conf line=$2 ere=$3 cmd
	for cmd in ${4:-backup}; do
		run_pv -C "$f" "$cmd"
		expect_rc 78 "$cmd with $1.conf"
		assert_eq 1 "$(grep -c . "$PV_ERR")" "lines on stderr for $cmd with $1.conf"
		assert_grep "$PV_ERR" "^popvault: ($cmd: )?$f:$line: $ere" \
			"$cmd with $1.conf: the message names the file and line"
		no_connection "$cmd with $1.conf"
		[ ! -e "$TEST_TMP/cfg-state.db" ] || fail "$cmd with $1.conf: a state was created"
	done
	[ -z "$(ls -A "$ARCH")" ] || fail "$1.conf: something was written into the archive"
}

conf unknown <<EOF
account bad
from $SRC
frobnicate yes
EOF
bad_conf unknown 12 "unknown key 'frobnicate'" "backup migrate restore verify"
conf port <<EOF
account bad
host $HOST
port pop3
user nobody
EOF
bad_conf port 12 "port must be a number"
conf port-big <<EOF
account bad
host $HOST
port 70000
user nobody
EOF
bad_conf port-big 12 "port must be a number"
conf tls <<EOF
account bad
from $SRC
tls maybe
EOF
bad_conf tls 12 "tls must be implicit, starttls or off"
conf delete <<EOF
account bad
from $SRC
delete sometimes
EOF
bad_conf delete 12 "delete must be yes or no"
conf delete-after <<EOF
account bad
from $SRC
delete_after soon
EOF
bad_conf delete-after 12 "delete_after must be a duration"
conf from-scheme <<EOF
account bad
from ftp://nobody@$HOST:$LPORT
EOF
bad_conf from-scheme 11 ".+"
conf from-port <<EOF
account bad
from pop3s://nobody@$HOST:99999
EOF
bad_conf from-port 11 ".*port"
conf no-value <<EOF
account bad
from $SRC
password
EOF
bad_conf no-value 12 "'password' needs a value"
conf quote <<EOF
account bad
from $SRC
passwordeval "cat /dev/null
EOF
bad_conf quote 12 "unterminated quoted value"
conf no-name <<EOF
account
from $SRC
EOF
bad_conf no-name 10 "'account' needs a name"
conf twice <<EOF
account good
from $SRC
EOF
bad_conf twice 10 "account good defined twice"
conf run-key <<EOF
account bad
from $SRC
archive $TEST_TMP/elsewhere
EOF
bad_conf run-key 12 "'archive' applies to the whole run"
conf no-host <<EOF
account bad
user nobody
password pw
EOF
bad_conf no-host 10 "account bad has no host"
conf no-user <<EOF
account bad
host $HOST
port $LPORT
password pw
EOF
bad_conf no-user 10 "account bad has no user"
conf tls-off <<EOF
account bad
from pop3://nobody@$HOST:$LPORT
tls off
EOF
bad_conf tls-off 10 "account bad: 'tls off' sends the password in the clear"
# Run keys of the wrong type, in a second defaults block (line 11).
i=0
for kv in "compress lzma|compress must be" "level 99|level must be" \
	"timeout forever|timeout must be" "volume_size 10k|volume_size must be" \
	"jobs 0|jobs must be" "jobs many|jobs must be" "max_size huge|max_size must be" \
	"target ftp://x@$HOST/F|target must be" \
	"target_per_account maybe|target_per_account must be"; do
	i=$((i + 1))
	printf 'defaults\n%s\n' "${kv%%|*}" | conf "run-$i"
	bad_conf "run-$i" 11 "${kv#*|}"
done

# An empty config file: no accounts; a config that does not exist.
: >"$TEST_TMP/empty.conf"
chmod 0600 "$TEST_TMP/empty.conf"
run_pv -C "$TEST_TMP/empty.conf" backup --archive "$ARCH"
expect_rc 78 "an empty config"
assert_eq 1 "$(grep -c . "$PV_ERR")" "lines on stderr for an empty config"
assert_grep "$PV_ERR" "^popvault: backup: no accounts in the config" "an empty config says so"
for cmd in backup migrate restore verify status; do
	run_pv -C "$TEST_TMP/no-such.conf" "$cmd"
	expect_rc 78 "$cmd with a config that does not exist"
	assert_eq 1 "$(grep -c . "$PV_ERR")" "lines on stderr for $cmd with a missing config"
	assert_grep "$PV_ERR" "^popvault: ($cmd: )?$TEST_TMP/no-such.conf: No such file or directory" \
		"$cmd: the missing config is named"
done
no_connection "empty and missing configs"

# ---- found when the account runs, before connecting ----
# late NAME ERE: the config on stdin; 78, a line naming the account,
# nobody connected.
late() {
	local f=$TEST_TMP/$1.conf
	cat >"$f"
	chmod 0600 "$f"
	run_pv -C "$f" backup
	expect_rc 78 "$1"
	assert_grep "$PV_ERR" "^popvault: account bad: $2" "$1: one line naming the account"
	no_connection "$1"
}
late no-password "no password" <<EOF
defaults
archive $ARCH
state $TEST_TMP/late-state.db
account bad
from $SRC
EOF
late unknown-auth ".*auth mechanism \"BOGUS\" is not usable here \(PLAIN, LOGIN" <<EOF
defaults
archive $ARCH
state $TEST_TMP/late-state.db
account bad
from $SRC
password pw
auth BOGUS
EOF
late bad-auth ".*auth mechanism \"PLAIN,LOGIN\" is not usable" <<EOF
defaults
archive $ARCH
state $TEST_TMP/late-state.db
account bad
from $SRC
password pw
auth PLAIN,LOGIN
EOF

# ---- command lines ----
# usage WHAT ARGS...: 64, at most one "popvault:" line (the usage text
# aside), nobody connected.
usage() {
	local what=$1
	shift
	run_pv "$@"
	expect_rc 64 "$what"
	grep -Eq '^(popvault: |usage: )' "$PV_ERR" || fail "$what: no error line"
	[ "$(grep -c '^popvault: ' "$PV_ERR")" -le 1 ] || fail "$what: more than one error line"
	no_connection "$what"
}
A=(--archive "$ARCH" --state "$TEST_TMP/cli-state.db")
usage "unknown command" frobnicate
usage "unknown global option" --frobnicate backup
usage "unknown debug category" -d bogus backup
usage "unknown option" backup "${A[@]}" --from "$SRC" --frobnicate
usage "--compress lzma" backup "${A[@]}" --from "$SRC" --compress lzma
usage "--level 99" backup "${A[@]}" --from "$SRC" --level 99
usage "--volume-size 10k" backup "${A[@]}" --from "$SRC" --volume-size 10k
usage "--jobs 0" backup "${A[@]}" --from "$SRC" --jobs 0
usage "--timeout 0" backup "${A[@]}" --from "$SRC" --timeout 0
usage "--delete-after soon" backup "${A[@]}" --from "$SRC" --delete-after soon
usage "both password options" backup "${A[@]}" --from "$SRC" \
	--password-file /dev/null --password-command true
usage "a bad --from URL" backup "${A[@]}" --from "ftp://nobody@$HOST:$LPORT"
usage "the same --from twice" backup "${A[@]}" --from "$SRC" --from "$SRC"
usage "an account not configured" backup "${A[@]}" --from "$SRC" someone-else
usage "backup --delete without an archive" backup --state "$TEST_TMP/cli-state.db" \
	--from "$SRC" --delete
assert_grep "$PV_ERR" "no archive directory" "backup without an archive says so"
usage "backup --to" backup "${A[@]}" --from "$SRC" --to "$TGT"
usage "migrate --delete without a target" migrate --state "$TEST_TMP/cli-state.db" \
	--from "$SRC" --delete
assert_grep "$PV_ERR" "no target" "migrate without a target says so"
usage "a password in the target URL" migrate --state "$TEST_TMP/cli-state.db" \
	--from "$SRC" --to "imaps://nobody:secret@$HOST:$LPORT/F"
usage "restore without a target" restore "${A[@]}"
usage "restore --since 2024-02-31" restore "${A[@]}" --to "$TGT" --since 2024-02-31
usage "restore --until before --since" restore "${A[@]}" --to "$TGT" \
	--since 2024-03-02 --until 2024-03-01
usage "restore --target-window 0" restore "${A[@]}" --to "$TGT" --target-window 0
[ ! -e "$TEST_TMP/cli-state.db" ] || fail "a refused command line created a state"

# ---- migrate --dry-run --delete: nothing deleted, the target untouched ----
u=$(new_account a)
mapfile -t five < <(corpus_files "$CORPUS_DIR" | head -n 5)
seed "$u" "${five[@]}"
maildir_hashes "$u" >"$TEST_TMP/before"
POPVAULT_PASSWORD=$(password_of "$u") run_pv migrate --state "$TEST_TMP/dry-state.db" \
	--cafile "$CA_FILE" --from "$(url_pop3s "$u")" --to "$TGT" --dry-run --delete --json
expect_rc 0 "migrate --dry-run --delete"
json_check "$PV_OUT" "j['dry_run'] and j['accounts'][0]['would_fetch'] == 5 and j['accounts'][0]['deleted'] == 0" \
	"migrate --dry-run --delete: would fetch all, deleted none"
maildir_hashes "$u" >"$TEST_TMP/after"
cmp -s "$TEST_TMP/before" "$TEST_TMP/after" || fail "migrate --dry-run --delete changed the mailbox"
[ ! -e "$TEST_TMP/dry-state.db" ] || fail "migrate --dry-run created a state"
no_connection "migrate --dry-run --delete"

# ---- the control: a run that does connect is seen ----
run_pv backup "${A[@]}" --from "$SRC" --password-command "echo pw" --connect-timeout 2s
[ "$PV_RC" != 0 ] || fail "a backup from the listener succeeded"
i=0
while [ ! -s "$conns" ] && [ "$i" -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -s "$conns" ] || fail "the listener saw no connection from a run that connects: the checks above prove nothing"
log "control: exit $PV_RC, $(wc -l <"$conns") connection(s) seen"
exit 0
