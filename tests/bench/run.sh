#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/bench/run.sh - popvault against the usual POP3 and IMAP clients, on
# the same mailbox content, in the same run.  Prints a table; asserts
# nothing about speed (a slow tool never fails the run).
#
#   run.sh BINARY [--quick]          (root: starts a private Dovecot and
#                                     installs mpop fetchmail getmail6 isync
#                                     bc time from Debian if missing)
#
# Cases (--quick: 1, 2 and 5 with one repetition; 4 comes free with 1):
#   1 download 1,000 msgs over TLS (POP3S): popvault, mpop, fetchmail, getmail6
#   2 download 1,000 msgs in plain text (no STLS offered): the same tools
#   3 backup to .tar.gz end to end: popvault --compress gzip vs mpop && tar czf
#   4 incremental, nothing new: a second run of each tool of case 1 on the
#     same mailbox and its own state
#   5 upload ~1,000 msgs into IMAP over TLS: popvault restore (from an
#     archive made once), popvault migrate (POP3S -> IMAPS), mbsync (Maildir
#     -> IMAPS, Sync Push)
#   6 the same download (popvault, mpop, fetchmail) and upload through
#     relay.py, a loopback delay line of 12.5 ms each way (25 ms RTT)
#   7 10,000 msgs download over TLS: popvault vs mpop
# Each repetition (3, or 1 with --quick) runs the tools one after the other
# (alternately), each on a fresh Dovecot user seeded with the same files, so
# every run fetches everything.  Per tool and case: median wall time,
# messages/s, MB/s, client CPU (user+sys) and peak RSS from /usr/bin/time,
# the ratio of its median time to popvault's, and the number of messages it
# delivered (a mismatch is printed, not fatal).
#
# Environment: BENCH_REPS (repetitions), BENCH_TIMEOUT (seconds per tool
# run, default 600), BENCH_CASES (which cases, e.g. "6 7"; 4 runs with 1).  Loopback only; every process it starts is stopped by
# its PID, Dovecot by its own script.
set -u
here=$(cd "$(dirname "$0")" && pwd)
it=$here/../integration
bin=${1:?usage: run.sh BINARY [--quick]}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
quick=0
[ "${2:-}" = --quick ] && quick=1
reps=${BENCH_REPS:-3}
[ $quick = 1 ] && reps=${BENCH_REPS:-1}
tmo=${BENCH_TIMEOUT:-600}
cases=${BENCH_CASES:-1 2 3 5 6 7}
[ $quick = 1 ] && cases=${BENCH_CASES:-1 2 5}
want() { case " $cases " in *" $1 "*) return 0 ;; esac; return 1; }
[ -x "$bin" ] || { echo "run.sh: $bin: not executable (run make first)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root (private Dovecot)" >&2; exit 77; }
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
export PYTHON

# --- peers -------------------------------------------------------------------
missing=
for p in mpop:mpop fetchmail:fetchmail getmail:getmail6 mbsync:isync bc:bc /usr/bin/time:time; do
	command -v "${p%%:*}" >/dev/null 2>&1 || missing="$missing ${p#*:}"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends $missing; } >/dev/null 2>&1 ||
		echo "warning: apt-get install$missing failed; the missing peers are skipped"
fi
have() { command -v "$1" >/dev/null 2>&1; }
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time missing" >&2; exit 1; }

# --- work dir, Dovecot, relays ---------------------------------------------
work=$(mktemp -d /tmp/popvault-bench.XXXXXX)
chmod 0755 "$work"
relay_pids=()
cleanup() {
	local p
	for p in "${relay_pids[@]}"; do kill "$p" 2>/dev/null; done
	"$it/dovecot.sh" stop "$work/srv" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/srv" "$work/log" "$work/out"
if ! "$it/dovecot.sh" start "$work/srv" >"$work/log/dovecot-start" 2>&1; then
	cat "$work/log/dovecot-start" >&2
	echo "run.sh: cannot start Dovecot" >&2
	exit 1
fi
# shellcheck disable=SC1091
. "$work/srv/env"
pw=bench$RANDOM$RANDOM
export POPVAULT_PASSWORD=$pw POPVAULT_TARGET_PASSWORD=$pw

# start_relay TARGETPORT: start relay.py in front of it; sets $relay_port.
# (Not in $(...): the relay would hold the substitution's pipe open.)
start_relay() {
	local f=$work/relay.$1 i
	relay_port=
	"$PYTHON" "$here/relay.py" --target "$1" --delay-ms 12.5 --port-file "$f" \
		</dev/null >/dev/null 2>>"$work/log/relay" &
	relay_pids+=($!)
	for i in $(seq 100); do
		[ -s "$f" ] && { relay_port=$(cat "$f"); return 0; }
		sleep 0.1
	done
	return 1
}

# --- corpus ----------------------------------------------------------------
"$PYTHON" "$it/gen_corpus.py" -q --bench --out "$work/c1k"
mapfile -t files < <(find "$work/c1k" -maxdepth 1 -name 'msg-*.eml' | sort)
n1k=${#files[@]}
bytes1k=$(cat "${files[@]}" | wc -c)
# The IMAP server refuses APPENDs over 1 MiB: the upload cases use the rest.
mapfile -t ufiles < <(find "$work/c1k" -maxdepth 1 -name 'msg-*.eml' -size -1000000c | sort)
nup=${#ufiles[@]}
bytesup=$(cat "${ufiles[@]}" | wc -c)

# --- measuring -------------------------------------------------------------
results=$work/results.tsv
: >"$results"
nuser=0
# newuser FILE...: a fresh Dovecot user seeded with FILEs; sets $u.
newuser() {
	nuser=$((nuser + 1))
	u=b$nuser
	"$it/dovecot.sh" adduser "$work/srv" "$u" "$pw" >/dev/null &&
		{ [ $# = 0 ] || "$it/dovecot.sh" seed "$work/srv" "$u" "$@" >/dev/null; }
}
now() { date +%s.%N; }
# timed LOGNAME COMMAND...: run it bounded; sets wall cpu rss rc.
timed() {
	local log=$work/log/$1 t0 t1
	shift
	t0=$(now)
	timeout -k 10 "$tmo" /usr/bin/time -o "$log.time" -f '%U %S %M' "$@" >"$log" 2>&1
	rc=$?
	t1=$(now)
	wall=$(echo "$t1 - $t0" | bc)
	# /usr/bin/time writes "Command exited with non-zero status N" first.
	read -r cu cs rss < <(tail -n 1 "$log.time" 2>/dev/null || echo "0 0 0")
	cpu=$(echo "${cu:-0} + ${cs:-0}" | bc 2>/dev/null || echo 0)
	rss=${rss:-0}
}
# record CASE TOOL MSGS BYTES DELIVERED EXPECTED: after timed.
record() {
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "skipped: $2 in case '$1': no result within ${tmo}s"
		return
	fi
	# fetchmail: 1 means "no mail", its normal answer when nothing is new.
	[ "$rc" = 1 ] && [ "$2" = fetchmail ] && [ "$6" = 0 ] && rc=0
	if [ "$rc" != 0 ]; then
		if [ "${5:-0}" = 0 ] && [ "$6" != 0 ]; then
			echo "skipped: $2 in case '$1': exit $rc, nothing delivered:"
			tail -n 3 "$work/log/$logname" | sed 's/^/    /'
			return
		fi
		echo "note: $2 in case '$1' exited $rc (delivered $5 of $6): $(tail -n 1 "$work/log/$logname")"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$wall" "$cpu" "$rss" \
		"$3" "$4" "$5" "$6" >>"$results"
	printf '  %-28s %-22s %8.2fs  delivered %s/%s\n' "$1" "$2" "$wall" "$5" "$6"
}
count_maildir() { find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l; }
count_archive() {
	local f c=0
	for f in "$1"/*.tar*; do
		[ -f "$f" ] || continue
		c=$((c + $(tar tf "$f" 2>/dev/null | grep -c '\.eml$')))
	done
	echo $c
}
count_imap() { # USER FOLDER
	"$PYTHON" "$it/imapdump.py" count --port "$IMAPS_PORT" --user "$1" \
		--password-env POPVAULT_TARGET_PASSWORD --cafile "$CA_FILE" --folder "$2" \
		2>/dev/null | tail -n 1 | tr -dc 0-9
}
mkmaildir() { mkdir -p "$1/new" "$1/cur" "$1/tmp"; }

# --- the download tools ----------------------------------------------------
# Each: TOOL_cmd MODE PORT USER OUT, MODE tls (implicit TLS) or plain.
# They write their config into OUT.cfg*, deliver into OUT (Maildir, or the
# archive for popvault), keep the mail on the server, and keep their own
# state there so a second run fetches only what is new.
popvault_cmd() { # MODE PORT USER OUT [COMPRESS]
	local url=pop3s://$3@127.0.0.1:$2 extra=()
	[ "$1" = plain ] && { url=pop3://$3@127.0.0.1:$2; extra=(--allow-plaintext); }
	cmd=("$bin" -q backup --from "$url" --archive "$4" --state "$4.db" --cafile "$CA_FILE"
		--compress "${5:-none}" "${extra[@]}")
}
mpop_cmd() {
	mkmaildir "$4"
	local tls=on
	[ "$1" = plain ] && tls=off
	cmd=(mpop --host=127.0.0.1 --port="$2" --tls=$tls --tls-starttls=off
		--tls-trust-file="$CA_FILE" --auth=user --user="$3" --passwordeval="echo $pw"
		--keep=on --delivery=maildir,"$4" --uidls-file="$4.uidls"
		--received-header=off -q)
}
fetchmail_cmd() {
	mkmaildir "$4"
	local ssl=
	# fetchmail checks the certificate against a name, not an IP address:
	# the server certificate names localhost.
	# In plain text, sslproto "" stops it from trying STLS anyway.
	ssl='sslproto ""'
	[ "$1" = tls ] && ssl='ssl sslcertck sslcommonname "localhost" sslcertfile "'"$CA_FILE"'"'
	{
		echo "set no bouncemail"
		echo "poll 127.0.0.1 service $2 protocol pop3 uidl"
		echo "  user \"$3\" password \"$pw\" $ssl"
		echo "  keep"
		echo "  mda \"/bin/sh -c 'cat > \$(mktemp $4/new/m.XXXXXXXXXX)'\""
	} >"$4.cfg"
	chmod 0600 "$4.cfg"
	cmd=(env FETCHMAILHOME="$4.home" fetchmail -N -d0 -s -f "$4.cfg" --idfile "$4.ids")
	mkdir -p "$4.home"
	chmod 0700 "$4.home"
}
getmail6_cmd() {
	mkmaildir "$4"
	mkdir -p "$4.gm"
	local type=SimplePOP3SSLRetriever ca="ca_certs = $CA_FILE"
	[ "$1" = plain ] && { type=SimplePOP3Retriever; ca=; }
	cat >"$4.gm/rc" <<EOF
[retriever]
type = $type
server = 127.0.0.1
port = $2
username = $3
password = $pw
$ca

[destination]
type = Maildir
path = $4/

[options]
delete = false
read_all = false
received = false
delivered_to = false
verbose = 0
EOF
	chmod 0600 "$4.gm/rc"
	# getmail refuses to deliver as root: it runs as the mail user.
	chown -R nobody:nogroup "$4" "$4.gm"
	cmd=(setpriv --reuid=nobody --regid=nogroup --clear-groups
		getmail --rcfile=rc --getmaildir="$4.gm")
}
tool_bin() { case $1 in popvault*) echo "$bin" ;; getmail6) echo getmail ;; *) echo "$1" ;; esac; }
delivered() { # TOOL OUT
	case $1 in popvault*) count_archive "$2" ;; *) count_maildir "$2" ;; esac
}

# download CASE TOOL MODE PORT [incremental-case] [FILE...]: one run on a
# fresh user seeded with FILEs (default: the 1,000); with an incremental
# case, a second run right after on the same mailbox and state.
download() {
	local case=$1 tool=$2 mode=$3 port=$4 inc=$5 out before after
	shift 5
	local fl=("$@")
	[ ${#fl[@]} = 0 ] && fl=("${files[@]}")
	local nb
	nb=$(cat "${fl[@]}" | wc -c)
	newuser "${fl[@]}" || { echo "skipped: $tool in '$case': cannot seed"; return; }
	out=$work/out/$u.$tool
	"${tool}_cmd" "$mode" "$port" "$u" "$out"
	logname=$u.$tool
	timed "$logname" "${cmd[@]}"
	after=$(delivered "$tool" "$out")
	record "$case" "$tool" "${#fl[@]}" "$nb" "$after" "${#fl[@]}"
	[ -n "$inc" ] || return 0
	before=$after
	logname=$u.$tool.inc
	timed "$logname" "${cmd[@]}"
	after=$(delivered "$tool" "$out")
	record "$inc" "$tool" 0 0 $((after - before)) 0
}

peers=()
for t in mpop fetchmail getmail6; do
	if have "$(tool_bin $t)"; then peers+=("$t"); else echo "skipped: $t: not installed"; fi
done

echo "popvault benchmark: $reps repetition(s), Dovecot on 127.0.0.1, corpus $n1k msgs, $bytes1k bytes"

# --- 1 + 4: download over TLS, then a second run with nothing new ------------
c1="1 download TLS"
c4="4 incremental (none new)"
want 1 && for r in $(seq "$reps"); do
	echo "[$c1 + $c4: repetition $r/$reps]"
	for t in popvault "${peers[@]}"; do
		download "$c1" "$t" tls "$POP3S_PORT" "$c4"
	done
done

# --- 2: download in plain text ----------------------------------------------
c2="2 download plain"
want 2 && for r in $(seq "$reps"); do
	echo "[$c2: repetition $r/$reps]"
	for t in popvault "${peers[@]}"; do
		download "$c2" "$t" plain "$POP3_NOTLS_PORT" ""
	done
done

# --- 3: backup into .tar.gz ---------------------------------------------------
c3="3 backup to .tar.gz"
if want 3; then
	for r in $(seq "$reps"); do
		echo "[$c3: repetition $r/$reps]"
		newuser "${files[@]}"
		out=$work/out/$u.gz
		popvault_cmd tls "$POP3S_PORT" "$u" "$out" gzip
		logname=$u.popvault.gz
		timed "$logname" "${cmd[@]}"
		record "$c3" "popvault .tar.gz" "$n1k" "$bytes1k" "$(count_archive "$out")" "$n1k"
		if have mpop; then
			newuser "${files[@]}"
			out=$work/out/$u.mpop
			mpop_cmd tls "$POP3S_PORT" "$u" "$out"
			logname=$u.mpop.gz
			timed "$logname" sh -c '"$@" && tar czf "$0.tar.gz" -C "$0" .' "$out" "${cmd[@]}"
			record "$c3" "mpop + tar czf" "$n1k" "$bytes1k" \
				"$(tar tzf "$out.tar.gz" 2>/dev/null | grep -c '^\./\(new\|cur\)/.')" "$n1k"
		fi
	done
fi

# --- 5 + 6: upload --------------------------------------------------------------
# The source of the uploads: an archive made once by popvault backup, a POP3
# user for migrate, and a Maildir for mbsync, all holding the same messages.
newuser "${ufiles[@]}"
src=$u
"$bin" -q backup --from "pop3s://$src@127.0.0.1:$POP3S_PORT" --archive "$work/arch" \
	--state "$work/arch.db" --cafile "$CA_FILE" >"$work/log/arch" 2>&1 ||
	echo "note: the backup for the upload source exited $?"
mkmaildir "$work/mbsrc"
i=0
for f in "${ufiles[@]}"; do
	i=$((i + 1))
	cp "$f" "$work/mbsrc/cur/$((1700000000 + i)).M${i}P1.bench:2,S"
done
upload_popvault_restore() { # IMAPSPORT POP3SPORT USER OUT
	cmd=("$bin" -q restore --archive "$work/arch" --state "$4.db" --cafile "$CA_FILE"
		--to "imaps://$3@127.0.0.1:$1/Bench")
}
upload_popvault_migrate() {
	cmd=("$bin" -q migrate --from "pop3s://$src@127.0.0.1:$2" --state "$4.db"
		--cafile "$CA_FILE" --to "imaps://$3@127.0.0.1:$1/Bench")
}
upload_mbsync() {
	mkdir -p "$4/state"
	cp -a "$work/mbsrc" "$4/src"
	# mbsync checks the certificate against the host name: localhost.
	cat >"$4/rc" <<EOF
IMAPAccount bench
Host localhost
Port $1
User $3
Pass $pw
SSLType IMAPS
CertificateFile $CA_FILE
AuthMechs PLAIN

IMAPStore far
Account bench

MaildirStore near
Path $4/
Inbox $4/src

Channel bench
Far :far:Bench
Near :near:INBOX
Sync Push
Create Far
SyncState $4/state/
EOF
	chmod 0600 "$4/rc"
	cmd=(mbsync -c "$4/rc" -a -q)
}
upload_tools=("popvault restore" "popvault migrate")
if have mbsync; then upload_tools+=(mbsync); else echo "skipped: mbsync: not installed"; fi
upload() { # CASE IMAPSPORT POP3SPORT
	local t out
	for t in "${upload_tools[@]}"; do
		newuser
		out=$work/out/$u.up
		mkdir -p "$out"
		"upload_${t// /_}" "$2" "$3" "$u" "$out"
		logname=$u.${t// /_}
		timed "$logname" "${cmd[@]}"
		record "$1" "$t" "$nup" "$bytesup" "$(count_imap "$u" Bench)" "$nup"
	done
}
c5="5 upload IMAPS"
want 5 && for r in $(seq "$reps"); do
	echo "[$c5: repetition $r/$reps]"
	upload "$c5" "$IMAPS_PORT" "$POP3S_PORT"
done

c6d="6 download TLS, 25ms RTT"
c6u="6 upload IMAPS, 25ms RTT"
if want 6; then
	start_relay "$POP3S_PORT"
	rpop=$relay_port
	start_relay "$IMAPS_PORT"
	rimap=$relay_port
	if [ -z "$rpop" ] || [ -z "$rimap" ]; then
		echo "skipped: case 6: the relay did not start"
	else
		for r in $(seq "$reps"); do
			echo "[$c6d: repetition $r/$reps]"
			for t in popvault mpop fetchmail; do
				have "$(tool_bin $t)" && download "$c6d" "$t" tls "$rpop" ""
			done
		done
		echo "skipped: getmail6 in '$c6d': optional, one round trip per message"
		for r in $(seq "$reps"); do
			echo "[$c6u: repetition $r/$reps]"
			upload "$c6u" "$rimap" "$rpop"
		done
	fi
fi

# --- 7: 10,000 messages -------------------------------------------------------
c7="7 download 10k TLS"
if want 7; then
	if "$PYTHON" "$it/gen_corpus.py" -q --bench --count 10000 --seed 10000 --out "$work/c10k"; then
		mapfile -t files10k < <(find "$work/c10k" -maxdepth 1 -name 'msg-*.eml' | sort)
		for r in $(seq "$reps"); do
			echo "[$c7: repetition $r/$reps]"
			for t in popvault mpop; do
				have "$(tool_bin $t)" && download "$c7" "$t" tls "$POP3S_PORT" "" "${files10k[@]}"
				# Dovecot's copy of 10,000 messages: not needed any more.
				rm -rf "$work/srv/home/$u/Maildir" "$work/out/$u.$t"
			done
		done
	else
		echo "skipped: $c7: cannot generate the corpus"
	fi
fi

# --- the table ------------------------------------------------------------------
echo
"$PYTHON" - "$results" <<'EOF'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
order, by = [], {}
cases = []
for case, tool, wall, cpu, rss, msgs, nbytes, got, want in rows:
    k = (case, tool)
    if case not in cases:
        cases.append(case)
    if k not in by:
        order.append(k)
        by[k] = []
    by[k].append((float(wall), float(cpu), int(rss), int(msgs), int(nbytes), int(got), int(want)))
print("%-26s %-18s %4s %8s %8s %7s %8s %9s %9s  %s" % (
    "case", "tool", "runs", "median s", "msg/s", "MB/s", "cpu s", "RSS KB", "got/want", "vs popvault"))
# the cases in the order they first ran, each with its tools in run order
order = [k for c in cases for k in order if k[0] == c]
base = {}
for case, tool in order:
    if tool.startswith("popvault") and case not in base:
        base[case] = (tool, statistics.median(r[0] for r in by[(case, tool)]))
mism = []
last = None
for case, tool in order:
    rs = by[(case, tool)]
    med = statistics.median(r[0] for r in rs)
    cpu = statistics.median(r[1] for r in rs)
    rss = max(r[2] for r in rs)
    msgs, nbytes = rs[0][3], rs[0][4]
    gots = sorted(set(r[5] for r in rs))
    want = rs[0][6]
    got = "/".join(str(g) for g in gots)
    if gots != [want]:
        mism.append("mismatch: %s, %s delivered %s of %d" % (case, tool, got, want))
    rate = "%8.0f" % (msgs / med) if msgs and med > 0 else "%8s" % "-"
    mbs = "%7.1f" % (nbytes / 1e6 / med) if nbytes and med > 0 else "%7s" % "-"
    vs = ""
    b = base.get(case)
    if b and tool != b[0] and b[1] > 0:
        vs = "%s / %s %.2fx" % (tool, b[0], med / b[1])
    if last is not None and case != last:
        print()
    last = case
    print("%-26s %-18s %4d %8.2f %s %s %8.2f %9d %9s  %s" % (
        case, tool, len(rs), med, rate, mbs, cpu, rss, got + "/" + str(want), vs))
print()
for m in mism:
    print(m)
print("(median wall time over the runs; cpu = client user+sys, RSS = client peak;")
print(" 'X / popvault 1.80x' = X took 1.8 times as long as that case's first popvault run)")
EOF
