# SPDX-License-Identifier: MIT
# tests/integration/lib.sh - helpers sourced by every t_*.sh scenario.
#
# run.sh exports: POPVAULT (binary), IT_DIR (this directory), TEST_NAME,
# TEST_TMP (fresh, empty, per scenario), CORPUS_DIR (the default corpus,
# read-only), and from dovecot.sh's env file: DOVECOT_DIR POP3_PORT
# POP3S_PORT POP3_NOTLS_PORT IMAP_PORT IMAPS_PORT IMAP_NOTLS_PORT CA_FILE
# WRONG_CA_FILE DOVECOT_LOG DOVECOT_NOTLS_LOG.
#
# A scenario exits 0 (pass), 1 (fail) or 77 (skip).  Everything it prints
# goes to its log, which run.sh shows when it fails: say what differed.

set -u

: "${POPVAULT:?run me through run.sh}" "${IT_DIR:?}" "${TEST_TMP:?}"
: "${TEST_NAME:?}" "${DOVECOT_DIR:?}" "${CA_FILE:?}"

HOST=127.0.0.1

# Debian's interpreter when present: a version manager's shim on PATH can
# cost a second per start.
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
fi
export PYTHON
PV_N=0
PV_RC=
PV_OUT=
PV_ERR=

# ---- verdicts --------------------------------------------------------------

log() { printf '# %s\n' "$*"; }

fail() {
	printf 'FAIL: %s\n' "$*"
	exit 1
}

skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

# show FILE [LINES]: print a file into the log, indented, bounded.
show() {
	local f=$1 n=${2:-40}
	[ -e "$f" ] || {
		echo "    ($f does not exist)"
		return
	}
	head -n "$n" "$f" | sed 's/^/    | /'
	[ "$(wc -l <"$f")" -le "$n" ] || echo "    | ... ($(wc -l <"$f") lines)"
}

assert_eq() {
	# assert_eq EXPECTED ACTUAL WHAT
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# ---- accounts and mail -----------------------------------------------------

# new_account TAG [PASSWORD]: create a Dovecot user unique to this scenario,
# print its name.  The password is kept in TEST_TMP for password_of.
new_account() {
	local user pass
	user="$(printf '%s' "${TEST_NAME#t_}" | tr '_' '-')-$1"
	pass=${2:-"pw-$user-$RANDOM$RANDOM"}
	"$IT_DIR/dovecot.sh" adduser "$DOVECOT_DIR" "$user" "$pass" >&2 ||
		fail "cannot create account $user"
	printf '%s\n' "$pass" >"$TEST_TMP/.pw.$user"
	printf '%s\n' "$user"
}

password_of() {
	cat "$TEST_TMP/.pw.$1"
}

url_pop3s() { echo "pop3s://$1@$HOST:$POP3S_PORT"; }
url_stls() { echo "pop3://$1@$HOST:$POP3_PORT"; }
url_notls() { echo "pop3://$1@$HOST:$POP3_NOTLS_PORT"; }

# account_of URL: the account name popvault gives a --from URL.
account_of() {
	local u=${1#*://}
	echo "${u%%/*}"
}

# account_safe NAME: the name used for volume files and member directories
# (docs/ARCHIVE.md: bytes outside [A-Za-z0-9._@+-] and a leading '.' become
# '_').
account_safe() {
	printf '%s' "$1" | LC_ALL=C sed 's/[^A-Za-z0-9._@+-]/_/g; s/^\./_/'
}

# seed USER FILE...: deliver files into USER's Maildir/new in this order.
seed() {
	local user=$1
	shift
	"$IT_DIR/dovecot.sh" seed "$DOVECOT_DIR" "$user" "$@" ||
		fail "seeding $user failed"
}

# corpus_files [DIR]: the corpus message files, in order.
corpus_files() {
	local d=${1:-$CORPUS_DIR}
	ls "$d"/msg-*.eml
}

# gen_corpus DIR ARGS...: a corpus of one's own (e.g. larger, other seed).
gen_corpus() {
	local d=$1
	shift
	"$PYTHON" "$IT_DIR/gen_corpus.py" -q --out "$d" "$@" ||
		fail "gen_corpus.py failed"
}

maildir() { echo "$DOVECOT_DIR/home/$1/Maildir"; }

# maildir_files USER: every message file currently in cur/ and new/.
maildir_files() {
	local md
	md=$(maildir "$1")
	find "$md/cur" "$md/new" -type f 2>/dev/null | sort
}

maildir_count() {
	maildir_files "$1" | wc -l
}

# hashes_of FILE...: sorted unique sha256 of the files.
hashes_of() {
	[ $# -gt 0 ] || return 0
	sha256sum "$@" | cut -d' ' -f1 | sort -u
}

maildir_hashes() {
	local f
	f=$(maildir_files "$1")
	[ -n "$f" ] || return 0
	# shellcheck disable=SC2086
	hashes_of $f
}

# ---- running popvault ------------------------------------------------------

# run_pv ARGS...: run the binary (bounded), stdout/stderr into files.
# Sets PV_RC, PV_OUT, PV_ERR.  Never fails by itself.
run_pv() {
	PV_N=$((PV_N + 1))
	PV_OUT=$TEST_TMP/run$PV_N.out
	PV_ERR=$TEST_TMP/run$PV_N.err
	log "run $PV_N: popvault $*"
	timeout -k 5 "${PV_TIMEOUT:-120}" "$POPVAULT" "$@" \
		</dev/null >"$PV_OUT" 2>"$PV_ERR"
	PV_RC=$?
	log "run $PV_N: exit $PV_RC"
	[ "$PV_RC" != 124 ] || log "run $PV_N: TIMED OUT"
	if [ -s "$PV_ERR" ]; then
		log "stderr:"
		show "$PV_ERR" 30
	fi
	if [ -s "$PV_OUT" ]; then
		log "stdout:"
		show "$PV_OUT" 30
	fi
	return 0
}

# backup ARGS...: run_pv backup with this scenario's archive, state db and
# the test CA (ARCH and STATE; override them by setting the variables).
ARCH=$TEST_TMP/archive
STATE=$TEST_TMP/state.db
backup() {
	run_pv backup --archive "$ARCH" --state "$STATE" --cafile "$CA_FILE" "$@"
}

# expect_rc CODE [WHAT]: the last run_pv must have exited with CODE.
expect_rc() {
	[ "$PV_RC" = "$1" ] && return 0
	fail "${2:-popvault run $PV_N}: expected exit $1, got $PV_RC"
}

# assert_grep FILE ERE WHAT / assert_no_grep FILE FIXED WHAT
assert_grep() {
	grep -Eq -- "$2" "$1" && return 0
	show "$1" 60
	fail "$3: no line matching /$2/ in $(basename "$1")"
}

assert_no_grep() {
	grep -Fq -- "$2" "$1" || return 0
	grep -Fn -- "$2" "$1" | head -n 5 | sed 's/^/    | /'
	fail "$3: found '$2' in $(basename "$1")"
}

# assert_no_secret SECRET USER FILE...: the password must not appear, nor
# in the base64 forms a SASL PLAIN or LOGIN exchange would carry.
assert_no_secret() {
	local secret=$1 user=$2 f pat
	shift 2
	local pats=("$secret"
		"$(printf '\0%s\0%s' "$user" "$secret" | base64 -w0)"
		"$(printf '%s\0%s\0%s' "$user" "$user" "$secret" | base64 -w0)"
		"$(printf '%s' "$secret" | base64 -w0)")
	for f in "$@"; do
		[ -e "$f" ] || continue
		for pat in "${pats[@]}"; do
			if grep -aFq -- "$pat" "$f"; then
				fail "secret (or its base64 form) found in $(basename "$f")"
			fi
		done
	done
}

# json_check FILE PYEXPR [WHAT]: FILE parses as JSON (bound to j) and the
# Python expression is true.
json_check() {
	"$PYTHON" - "$1" "$2" <<'EOF' || fail "${3:-json check} failed: $2"
import json, sys
try:
    with open(sys.argv[1], "rb") as f:
        j = json.load(f)
except Exception as e:
    print("    not JSON: %s" % e)
    sys.exit(1)
try:
    ok = eval(sys.argv[2], {"j": j})
except Exception as e:
    ok = False
    print("    %s: %r" % (type(e).__name__, e))
if not ok:
    print("    JSON was: " + json.dumps(j, indent=1)[:3000].replace("\n", "\n    "))
sys.exit(0 if ok else 1)
EOF
}

# json_get FILE PYEXPR: print the value of the expression (j = the JSON).
json_get() {
	"$PYTHON" -c '
import json, sys
j = json.load(open(sys.argv[1], "rb"))
v = eval(sys.argv[2], {"j": j})
print(json.dumps(v) if not isinstance(v, (str, int)) else v)
' "$1" "$2"
}

# ---- archives --------------------------------------------------------------

# archive_volumes DIR: complete volumes only (temporary or hidden files of
# an interrupted run are not volumes).
archive_volumes() {
	[ -d "$1" ] || return 0
	find "$1" -maxdepth 1 -type f ! -name '.*' |
		grep -E '/[A-Za-z0-9._@+_-]+-[0-9]{8}T[0-9]{6}Z-[0-9]+\.tar(\.gz|\.zst|\.xz)?$' |
		sort
}

# archive_check DIR: extract every volume, check it, and write
#   $TEST_TMP/archive.members   "sha256 account-safe volume" per member
#   $TEST_TMP/archive.hashes    sorted unique sha256 of all members
# Fails if a member's bytes do not hash to its name, a volume lacks
# MANIFEST.popvault as its last member, or a blob is stored twice
# (ARCHIVE_DUPS_OK=1: twice in one volume).
archive_check() {
	local dir=$1 vol x name list h d n=0
	x=$TEST_TMP/extract
	rm -rf "$x"
	mkdir -p "$x"
	: >"$TEST_TMP/archive.members"
	for vol in $(archive_volumes "$dir"); do
		n=$((n + 1))
		name=$(basename "$vol")
		list=$TEST_TMP/list.$name
		bsdtar -tf "$vol" >"$list" || fail "bsdtar cannot list $name"
		[ "$(tail -n 1 "$list")" = MANIFEST.popvault ] || {
			show "$list"
			fail "$name: last member is not MANIFEST.popvault"
		}
		mkdir -p "$x/$name"
		bsdtar -xf "$vol" -C "$x/$name" || fail "bsdtar cannot extract $name"
		# One process per volume checks every member (names, bytes, manifest).
		"$PYTHON" - "$x/$name" "$list" "$name" >>"$TEST_TMP/archive.members" <<'EOF' ||
import hashlib, os, re, sys
root, listing, vol = sys.argv[1:4]
with open(os.path.join(root, "MANIFEST.popvault"), "rb") as f:
    manifest = f.read().lower()
ok = True
for member in open(listing, encoding="utf-8", errors="surrogateescape"):
    member = member.rstrip("\n")
    if member == "MANIFEST.popvault" or member.endswith("/"):
        continue
    m = re.fullmatch(r"([^/]+)/([0-9a-f]{64})\.eml", member)
    if not m:
        print("FAIL: %s: member %r is not <account>/<sha256>.eml" % (vol, member), file=sys.stderr)
        ok = False
        continue
    with open(os.path.join(root, member), "rb") as f:
        h = hashlib.sha256(f.read()).hexdigest()
    if h != m.group(2):
        print("FAIL: %s: member %s: content hashes to %s" % (vol, member, h), file=sys.stderr)
        ok = False
    if m.group(2).encode() not in manifest:
        print("FAIL: %s: MANIFEST.popvault does not mention %s" % (vol, m.group(2)), file=sys.stderr)
        ok = False
    print(m.group(2), m.group(1), vol)
sys.exit(0 if ok else 1)
EOF
			fail "volume $name failed the member checks (above)"
	done
	cut -d' ' -f1 "$TEST_TMP/archive.members" | sort >"$TEST_TMP/archive.all"
	sort -u "$TEST_TMP/archive.all" >"$TEST_TMP/archive.hashes"
	# Accounts backed up at once may each store a content the other has
	# too (neither volume durable yet): ARCHIVE_DUPS_OK=1 allows that
	# across volumes, never within one.
	if [ "${ARCHIVE_DUPS_OK:-0}" = 1 ]; then
		d=$(cut -d' ' -f1,3 "$TEST_TMP/archive.members" | sort | uniq -d)
		[ -z "$d" ] || {
			echo "$d" | head | sed 's/^/    dup in one volume: /'
			fail "a volume stores a message more than once"
		}
	elif ! cmp -s "$TEST_TMP/archive.all" "$TEST_TMP/archive.hashes"; then
		uniq -d "$TEST_TMP/archive.all" | while read -r h; do
			grep "^$h " "$TEST_TMP/archive.members" | sed 's/^/    dup: /'
		done
		fail "archive stores a message more than once"
	fi
	log "archive: $n volume(s), $(wc -l <"$TEST_TMP/archive.hashes") member(s)"
}

# assert_subset EXPECTED_FILE ACTUAL_FILE WHAT: every line of the first
# (sorted hashes) is in the second.
assert_subset() {
	local missing
	missing=$(comm -23 "$1" "$2")
	[ -z "$missing" ] && return 0
	echo "$missing" | head -n 10 | sed 's/^/    missing: /'
	fail "$3: $(echo "$missing" | wc -l) expected message(s) missing"
}

# assert_same_set EXPECTED_FILE ACTUAL_FILE WHAT
assert_same_set() {
	assert_subset "$1" "$2" "$3"
	local extra
	extra=$(comm -13 "$1" "$2")
	[ -z "$extra" ] && return 0
	echo "$extra" | head -n 10 | sed 's/^/    unexpected: /'
	fail "$3: $(echo "$extra" | wc -l) unexpected message(s)"
}

# member_account HASH: the account directory that holds HASH (archive_check
# first).
member_account() {
	grep "^$1 " "$TEST_TMP/archive.members" | cut -d' ' -f2 | head -n 1
}

# ---- state db --------------------------------------------------------------

# sha_is HEX: an SQL condition true when column sha256 is HEX, whether it is
# stored as text or as a 32-byte blob.
sha_is() {
	echo "(sha256 = '$1' OR lower(hex(sha256)) = '$1')"
}

# sql DB QUERY: run a query against the state db, one row per line, '|'.
sql() {
	[ -f "$1" ] || fail "state db $1 does not exist"
	sqlite3 -batch -noheader -cmd '.timeout 5000' "$1" "$2" ||
		fail "sqlite3 query failed: $2"
}

# assert_no_duplicate_rows DB: (account, uidl) unique; every done row has
# a blob; every blob's volume is complete.
assert_state_sane() {
	local db=$1 d
	d=$(sql "$db" "SELECT account, hex(uidl), count(*) FROM messages
		GROUP BY account, uidl HAVING count(*) > 1;")
	[ -z "$d" ] || {
		echo "$d" | head | sed 's/^/    dup row: /'
		fail "state db has duplicate (account, uidl) rows"
	}
	# Archived (a volume) means its content is a blob; migrated without
	# an archive (no volume) means an upload of it is DONE somewhere.
	d=$(sql "$db" "SELECT account, hex(uidl) FROM messages
		WHERE state = 1 AND volume_id IS NOT NULL
		AND sha256 NOT IN (SELECT sha256 FROM blobs);")
	[ -z "$d" ] || {
		echo "$d" | head | sed 's/^/    no blob: /'
		fail "state db: done messages without a stored blob"
	}
	d=$(sql "$db" "SELECT account, hex(uidl) FROM messages
		WHERE state = 1 AND volume_id IS NULL
		AND sha256 NOT IN (SELECT sha256 FROM uploads WHERE state = 1);")
	[ -z "$d" ] || {
		echo "$d" | head | sed 's/^/    no upload: /'
		fail "state db: done messages neither archived nor uploaded"
	}
}

# assert_state_settled DONE WHAT: the state at the end of a run that
# completed: DONE messages recorded done, no volume pending, sane.
assert_state_settled() {
	assert_eq "$1" "$(sql "$STATE" "SELECT count(*) FROM messages WHERE state = 1")" \
		"done rows $2"
	assert_eq 0 "$(sql "$STATE" "SELECT count(*) FROM volumes WHERE state = 0")" \
		"pending volumes $2"
	assert_state_sane "$STATE"
}

# ---- the hostile POP3 server (tests/fake/pop3_hostile.py) -------------------

# hostile_start FAULT_ARGS...: serve $HP_DIR (default $TEST_TMP/mailbox, the
# .eml files, message 1 first) with password $HP_PASS, plain TCP, no STLS.
# Reuses $HP_PORT when set (so the account name stays the same across
# restarts), else picks a free one.  Sets HP_PID, HP_PORT, HP_LOG (every
# command received, "CONN COMMAND") and HP_URL.  Stop with hostile_stop.
# _fake_port PID PORTFILE OUTFILE WHAT: wait (at most 5 s) for a fake
# server to publish its port, and print it; else say why and fail.
_fake_port() {
	local i=0
	while [ ! -s "$2" ] && [ "$i" -lt 100 ]; do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	[ -s "$2" ] || {
		show "$3" >&2
		fail "the hostile $4 server did not start" >&2
	}
	cat "$2"
}

HP_DIR=$TEST_TMP/mailbox
HP_PASS=pw-hostile-$RANDOM$RANDOM
HP_PID=
HP_PORT=
HP_N=0
hostile_start() {
	local pf
	HP_N=$((HP_N + 1))
	HP_LOG=$TEST_TMP/hostile$HP_N.log
	pf=$TEST_TMP/hostile$HP_N.port
	mkdir -p "$HP_DIR"
	"$PYTHON" "$IT_DIR/../fake/pop3_hostile.py" --maildir "$HP_DIR" \
		--password "$HP_PASS" --port-file "$pf" --log "$HP_LOG" \
		--lifetime 120 --port "${HP_PORT:-0}" "$@" \
		>"$TEST_TMP/hostile$HP_N.out" 2>&1 &
	HP_PID=$!
	trap _stop_fakes EXIT
	HP_PORT=$(_fake_port "$HP_PID" "$pf" "$TEST_TMP/hostile$HP_N.out" POP3) ||
		exit 1
	HP_URL="pop3://hostile@$HOST:$HP_PORT"
	log "hostile server $HP_N (pid $HP_PID) on port $HP_PORT: $*"
}

hostile_stop() {
	[ -n "$HP_PID" ] || return 0
	kill "$HP_PID" 2>/dev/null
	wait "$HP_PID" 2>/dev/null
	HP_PID=
}

# hostile_backup ARGS...: backup from the hostile server, plaintext allowed.
hostile_backup() {
	POPVAULT_PASSWORD=$HP_PASS backup --allow-plaintext --from "$HP_URL" "$@"
}

# hostile_count / hostile_hashes: the messages still in the served mailbox.
hostile_count() {
	find "$HP_DIR" -maxdepth 1 -type f -name '*.eml' | wc -l
}

hostile_hashes() {
	local f
	f=$(find "$HP_DIR" -maxdepth 1 -type f -name '*.eml' | sort)
	[ -n "$f" ] || return 0
	# shellcheck disable=SC2086
	hashes_of $f
}

# hostile_nothing_lost EXPECTED WHEN: every hash in EXPECTED is still a file
# of the served mailbox or a member of the archive (archive_check runs).
hostile_nothing_lost() {
	archive_check "$ARCH"
	{
		hostile_hashes
		cat "$TEST_TMP/archive.hashes"
	} | sort -u >"$TEST_TMP/held"
	assert_subset "$1" "$TEST_TMP/held" "after $2"
	[ ! -f "$STATE" ] || assert_state_sane "$STATE"
	log "after $2: $(hostile_count) on the server, $(wc -l <"$TEST_TMP/archive.hashes") archived"
}

# ---- IMAP targets (migrate, restore, verify --to) ---------------------------

# url_imaps USER [FOLDER] / url_imap USER [FOLDER]: a target URL (implicit
# TLS / STARTTLS).  FOLDER is UTF-8; it is percent-encoded (space -> %20,
# each non-ASCII byte -> %XX; '/' is kept).
_url_folder() {
	[ -n "${1:-}" ] || return 0
	printf '/'
	"$PYTHON" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1].encode(), safe="/"), end="")' "$1"
}
url_imaps() { echo "imaps://$1@$HOST:$IMAPS_PORT$(_url_folder "${2:-}")"; }
url_imap() { echo "imap://$1@$HOST:$IMAP_PORT$(_url_folder "${2:-}")"; }

# imapdump SUBCOMMAND USER ARGS...: tests/integration/imapdump.py against
# the main instance over implicit TLS, as USER with its new_account
# password and the test CA (bounded).  Its exit status is returned.
imapdump() {
	local cmd=$1 user=$2
	shift 2
	IMAPDUMP_PASSWORD=$(password_of "$user") timeout -k 5 60 \
		"$PYTHON" "$IT_DIR/imapdump.py" "$cmd" --port "$IMAPS_PORT" \
		--user "$user" --password-env IMAPDUMP_PASSWORD \
		--cafile "$CA_FILE" "$@"
}

# imap_delimiter USER: the server's hierarchy delimiter.
imap_delimiter() {
	imapdump delimiter "$1" || fail "imapdump delimiter failed for $1"
}

# imap_dump USER FOLDER OUT: the folder's dump (see imapdump.py) into OUT,
# and its sorted sha256 column (duplicates kept) into OUT.hashes.
imap_dump() {
	imapdump dump "$1" --folder "$2" >"$3" ||
		fail "imapdump dump of '$2' for $1 failed"
	cut -d' ' -f1 "$3" | sort >"$3.hashes"
}

# expected_internaldate FILE: "unix +hhmm" of the INTERNALDATE a message
# should get: the newest Received header's date (the latest instant among
# the dates after each Received header's last ';'), else the Date header.
# Prints nothing if neither parses.
expected_internaldate() {
	"$PYTHON" - "$1" <<'PYEOF'
import email.parser, email.policy, email.utils, sys
with open(sys.argv[1], "rb") as f:
    msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parse(f)

def parse(s):
    t = email.utils.parsedate_tz(" ".join(str(s).split()))
    if t is None:
        return None
    off = t[9] or 0
    return email.utils.mktime_tz(t), off

best = None
for r in msg.get_all("Received") or []:
    r = str(r)
    if ";" not in r:
        continue
    d = parse(r.rsplit(";", 1)[1])
    if d and (best is None or d[0] > best[0]):
        best = d
if best is None and msg.get("Date") is not None:
    best = parse(msg.get("Date"))
if best is not None:
    off = best[1]
    sign = "-" if off < 0 else "+"
    off = abs(off) // 60
    print("%d %s%02d%02d" % (best[0], sign, off // 60, off % 60))
PYEOF
}

# expected_dates FILE...: "sha256 unix" per file (sorted), for comparing
# with the first two columns of imap_dump.  Files whose date does not
# parse are left out.
expected_dates() {
	local f h d
	for f in "$@"; do
		d=$(expected_internaldate "$f")
		[ -n "$d" ] || continue
		h=$(sha256sum <"$f" | cut -d' ' -f1)
		echo "$h ${d%% *}"
	done | sort -u
}

# assert_internaldates DUMP WHAT FILE...: every FILE's message in DUMP (an
# imap_dump output) has the expected INTERNALDATE instant.  Dovecot's
# Maildir keeps the instant (the file's mtime) but not the zone: INTERNALDATE
# comes back in the server's zone, so only the instant can be compared.
assert_internaldates() {
	local dump=$1 what=$2 bad
	shift 2
	expected_dates "$@" >"$dump.expected-dates"
	cut -d' ' -f1,2 "$dump" | sort -u >"$dump.dates"
	bad=$(comm -23 "$dump.expected-dates" "$dump.dates")
	[ -z "$bad" ] && return 0
	echo "$bad" | head -n 5 | while read -r h d; do
		echo "    $h: expected $d, target has: $(grep "^$h " "$dump" | cut -d' ' -f2,3 | head -n 1)"
	done
	fail "$what: $(echo "$bad" | wc -l) message(s) with a wrong INTERNALDATE"
}

# assert_folder_exactly EXPECTED_HASHES DUMP WHAT: the folder holds exactly
# the expected set, each message once.
assert_folder_exactly() {
	local d
	sort -u "$2.hashes" >"$2.distinct"
	assert_same_set "$1" "$2.distinct" "$3"
	d=$(uniq -d "$2.hashes")
	[ -z "$d" ] || {
		echo "$d" | head -n 5 | sed 's/^/    twice: /'
		fail "$3: $(echo "$d" | wc -l) message(s) more than once in the folder"
	}
}

# migrate ARGS... / restore ARGS...: like backup, with STATE and the test
# CA.  Passwords come from the caller's environment (POPVAULT_PASSWORD for
# the sources, POPVAULT_TARGET_PASSWORD for the target).
migrate() {
	run_pv migrate --state "$STATE" --cafile "$CA_FILE" "$@"
}

restore() {
	run_pv restore --state "$STATE" --cafile "$CA_FILE" "$@"
}

# corpus_small [DIR]: the corpus files an IMAP APPEND accepts here (under
# 1,000,000 bytes; Dovecot's APPENDLIMIT in dovecot.sh is 1 MiB), in order.
corpus_small() {
	local d=${1:-$CORPUS_DIR}
	find "$d" -maxdepth 1 -name 'msg-*.eml' -size -1000000c | sort
}


# ---- the hostile IMAP server (tests/fake/imap_hostile.py) -------------------

# himap_start FAULT_ARGS...: a scripted IMAP target on 127.0.0.1, plain TCP,
# no STARTTLS, password $HI_PASS, its folders kept under $HI_STORE (default
# $TEST_TMP/imapstore: one directory per folder, <uid>.eml files, and
# state.json, so a restart with the same store serves the same folders and
# UIDs).  Reuses $HI_PORT when set (the target URL stays the same across
# restarts), else picks a free one.  Sets HI_PID, HI_PORT, HI_LOG (every
# command line received, "CONN LINE", and "CONN !EVENT" lines).  Stop with
# himap_stop (also run at exit).
HI_STORE=$TEST_TMP/imapstore
HI_PASS=pw-himap-$RANDOM$RANDOM
HI_PID=
HI_PORT=
HI_N=0
himap_start() {
	local pf
	HI_N=$((HI_N + 1))
	HI_LOG=$TEST_TMP/himap$HI_N.log
	pf=$TEST_TMP/himap$HI_N.port
	mkdir -p "$HI_STORE"
	"$PYTHON" "$IT_DIR/../fake/imap_hostile.py" --store "$HI_STORE" \
		--password "$HI_PASS" --port-file "$pf" --log "$HI_LOG" \
		--lifetime 120 --port "${HI_PORT:-0}" "$@" \
		>"$TEST_TMP/himap$HI_N.out" 2>&1 &
	HI_PID=$!
	trap _stop_fakes EXIT
	HI_PORT=$(_fake_port "$HI_PID" "$pf" "$TEST_TMP/himap$HI_N.out" IMAP) ||
		exit 1
	log "hostile IMAP server $HI_N (pid $HI_PID) on port $HI_PORT: $*"
}

himap_stop() {
	[ -n "$HI_PID" ] || return 0
	kill "$HI_PID" 2>/dev/null
	wait "$HI_PID" 2>/dev/null
	HI_PID=
}

# himap_url FOLDER: the target URL of a folder on the hostile IMAP server.
himap_url() { echo "imap://hostile@$HOST:$HI_PORT$(_url_folder "$1")"; }

# himap_migrate ARGS...: migrate to the hostile IMAP server (its password,
# plaintext allowed).  POPVAULT_PASSWORD for the sources comes from the
# caller's environment.
himap_migrate() {
	POPVAULT_TARGET_PASSWORD=$HI_PASS migrate --allow-plaintext "$@"
}

# himap_files FOLDER: the stored message files of a folder, by UID.
himap_files() {
	local d
	d=$HI_STORE/$(printf '%s' "$1" | LC_ALL=C sed 's/[^A-Za-z0-9._-]/_/g; s/^\./_/')
	[ -d "$d" ] || return 0
	find "$d" -maxdepth 1 -type f -name '*.eml' | sort -V
}

himap_count() {
	himap_files "$1" | wc -l
}

# himap_hashes FOLDER: the sorted sha256 of the folder's messages,
# duplicates kept.
himap_hashes() {
	local f
	f=$(himap_files "$1")
	[ -n "$f" ] || return 0
	# shellcheck disable=SC2086
	sha256sum $f | cut -d' ' -f1 | sort
}

# assert_himap_exactly EXPECTED_HASHES FOLDER WHAT: the folder holds exactly
# the expected set (sorted unique sha256), each message once.
assert_himap_exactly() {
	local d
	himap_hashes "$2" >"$TEST_TMP/himap.hashes"
	d=$(uniq -d "$TEST_TMP/himap.hashes")
	[ -z "$d" ] || {
		echo "$d" | head -n 5 | sed 's/^/    twice: /'
		fail "$3: $(echo "$d" | wc -l) message(s) more than once in $2"
	}
	assert_same_set "$1" "$TEST_TMP/himap.hashes" "$3"
}

# proxy_start UPSTREAM_PORT ARGS...: the fault proxy (tests/fake/faultproxy.py)
# on 127.0.0.1 in front of UPSTREAM_PORT (a Dovecot port), with ARGS: its
# faults, --proto, and "${PX_TLS[@]}" to terminate TLS with the test
# certificate (the client still verifies it against $CA_FILE) and verify
# the upstream.  Reuses $PX_PORT when set, so the account's URL stays the
# same across restarts.  Sets PX_PID, PX_PORT, PX_LOG (client commands,
# credentials masked, and "N !EVENT" lines) and PX_WIRE (every byte it
# relayed, as an eavesdropper would see them).  proxy_stop (also at exit).
PX_PID=
PX_PORT=
PX_N=0
PX_TLS=(--tls-in "$DOVECOT_DIR/tls/server.pem" "$DOVECOT_DIR/tls/server.key"
	--tls-out "$CA_FILE")
proxy_start() {
	local pf up=$1
	shift
	proxy_stop
	PX_N=$((PX_N + 1))
	PX_LOG=$TEST_TMP/proxy$PX_N.log
	PX_WIRE=$TEST_TMP/proxy$PX_N.wire
	pf=$TEST_TMP/proxy$PX_N.port
	"$PYTHON" "$IT_DIR/../fake/faultproxy.py" --upstream "$up" \
		--port-file "$pf" --log "$PX_LOG" --wire "$PX_WIRE" \
		--lifetime 120 --port "${PX_PORT:-0}" "$@" \
		>"$TEST_TMP/proxy$PX_N.out" 2>&1 &
	PX_PID=$!
	trap _stop_fakes EXIT
	PX_PORT=$(_fake_port "$PX_PID" "$pf" "$TEST_TMP/proxy$PX_N.out" proxy) ||
		exit 1
	log "fault proxy $PX_N (pid $PX_PID) on port $PX_PORT -> $up: $*"
}

proxy_stop() {
	[ -n "$PX_PID" ] || return 0
	kill "$PX_PID" 2>/dev/null
	wait "$PX_PID" 2>/dev/null
	PX_PID=
}

# _stop_fakes: stop every scripted server and proxy this scenario started.
_stop_fakes() {
	proxy_stop
	hostile_stop
	himap_stop 2>/dev/null || true
}
