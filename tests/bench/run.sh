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
#   8 many accounts: 50 users x 200 msgs of 2-30 KB (gen_small.py), all
#     through one relay.py (25 ms RTT): ONE popvault backup -C with 50
#     account sections (--jobs 8 when backup --help offers it) vs mpop run
#     account after account; delivered = messages in all archives/Maildirs
#   9 incremental at scale: one user with 10,000 and one with 100,000 tiny
#     msgs (written straight into the Maildir; both tools on the same two
#     mailboxes, since nothing deletes): a first fetch of everything
#     (own row; mpop's of 100k bounded to 240 s, else skipped), then per
#     repetition a second run with nothing new; prints popvault's ratio
#     time(100k)/time(10k)
#   10 one 200 MB message (compress none) vs mpop: the RSS column is the
#     point (popvault under 32 MB, printed); checks that the stored .eml is
#     the source byte for byte ("identical" or "DIFFERENT")
# Each repetition (3, or 1 with --quick) runs the tools one after the other
# (alternately), each on a fresh Dovecot user seeded with the same files, so
# every run fetches everything.  Per tool and case: median wall time,
# messages/s, MB/s, client CPU (user+sys) and peak RSS from /usr/bin/time,
# the ratio of its median time to popvault's, and the number of messages it
# delivered (a mismatch is printed, not fatal).
#
# Cases 8-10 take about 8 of the full run's 21 minutes (3 repetitions; 9
# alone 3 to 5, mostly mpop's first fetch of 100,000 messages, 1 to 2.5
# minutes), and up to 1.5 GB in /tmp (9 is skipped with less than 3 GB free).
#
# Environment: BENCH_REPS (repetitions), BENCH_TIMEOUT (seconds per tool
# run, default 600), BENCH_CASES (which cases, default "1 2 3 5 6 7 8 9 10",
# with --quick "1 2 5"; e.g. "6 7"; 4 runs with 1).  Loopback only; every
# process it starts is stopped by its PID, Dovecot by its own script.
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
cases=${BENCH_CASES:-1 2 3 5 6 7 8 9 10}
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
	printf '  %-29s %-22s %8.2fs  delivered %s/%s\n' "$1" "$2" "$wall" "$5" "$6"
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
# download_case CASE TITLE MODE PORT [INCREMENTAL-CASE]: every repetition,
# popvault and each peer in turn.
download_case() {
	local r t
	want "$1" || return 0
	for r in $(seq "$reps"); do
		echo "[$2: repetition $r/$reps]"
		for t in popvault "${peers[@]}"; do
			download "${2%% + *}" "$t" "$3" "$4" "${5:-}"
		done
	done
}
c4="4 incremental (none new)"
download_case 1 "1 download TLS + $c4" tls "$POP3S_PORT" "$c4"

# --- 2: download in plain text ----------------------------------------------
download_case 2 "2 download plain" plain "$POP3_NOTLS_PORT"

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

# --- 8: many accounts through one delay line ----------------------------------
# 50 users x 200 messages of 2-30 KB (gen_small.py: every user's messages are
# distinct, so popvault's store-a-content-once does not hide any), all behind
# one relay.py (25 ms RTT): ONE popvault backup -C with 50 account sections
# vs mpop run account after account.
c8="8 many accounts, 25ms RTT"
n8u=50
n8m=200
# seed8: 50 fresh users, each seeded with its own 200 files; sets users8.
seed8() {
	local i
	users8=()
	for i in $(seq -w 1 "$n8u"); do
		newuser "$work/c8/u$i"/msg-*.eml || return 1
		users8+=("$u")
	done
}
# drop8 OUT: Dovecot's copies of the last seed8 and OUT, to keep /tmp small.
drop8() {
	local x
	for x in "${users8[@]}"; do rm -rf "$work/srv/home/$x/Maildir"; done
	rm -rf "$1"
}
if want 8; then
	rport8=
	start_relay "$POP3S_PORT" && rport8=$relay_port
	if [ -z "$rport8" ]; then
		echo "skipped: $c8: the relay did not start"
	elif ! "$PYTHON" "$here/gen_small.py" many -q --users "$n8u" --count "$n8m" \
		--seed 8 --out "$work/c8"; then
		echo "skipped: $c8: cannot generate the corpus"
	else
		n8=$((n8u * n8m))
		bytes8=$(find "$work/c8" -name 'msg-*.eml' -printf '%s\n' | awk '{s += $1} END {print s}')
		jobs8=()
		pv8=popvault
		if "$bin" backup --help 2>&1 | grep -q -- '--jobs'; then
			jobs8=(--jobs 8)
			pv8="popvault --jobs 8"
			echo "case 8: popvault backup --jobs 8 (up to 8 accounts at once)"
		else
			echo "case 8: popvault backup has no --jobs: one account at a time"
		fi
		echo "case 8: $n8u accounts x $n8m msgs, $bytes8 bytes, through one relay (25 ms RTT)"
		for r in $(seq "$reps"); do
			echo "[$c8: repetition $r/$reps]"
			if seed8; then
				out=$work/out/c8.$r.popvault
				{
					echo "defaults"
					echo "archive $out"
					echo "state $out.db"
					echo "cafile $CA_FILE"
					echo "compress none"
					# the password: \$POPVAULT_PASSWORD
					for x in "${users8[@]}"; do
						echo
						echo "account $x"
						echo "from pop3s://$x@127.0.0.1:$rport8"
					done
				} >"$out.conf"
				chmod 0600 "$out.conf"
				logname=c8.$r.popvault
				timed "$logname" "$bin" -q backup -C "$out.conf" "${jobs8[@]}"
				record "$c8" "$pv8" "$n8" "$bytes8" "$(count_archive "$out")" "$n8"
				drop8 "$out"
			else
				echo "skipped: popvault in '$c8': cannot seed"
			fi
			have mpop || continue
			if seed8; then
				out=$work/out/c8.$r.mpop
				for x in "${users8[@]}"; do mkmaildir "$out/$x"; done
				logname=c8.$r.mpop
				# one mpop per account, one after the other, each with its own
				# Maildir and uidls file
				# shellcheck disable=SC2016
				timed "$logname" sh -c '
					out=$1 port=$2 ca=$3 pw=$4 rc=0
					shift 4
					for u in "$@"; do
						mpop --host=127.0.0.1 --port="$port" --tls=on --tls-starttls=off \
							--tls-trust-file="$ca" --auth=user --user="$u" \
							--passwordeval="echo $pw" --keep=on \
							--delivery=maildir,"$out/$u" --uidls-file="$out/$u.uidls" \
							--received-header=off -q || rc=$?
					done
					exit $rc' sh "$out" "$rport8" "$CA_FILE" "$pw" "${users8[@]}"
				record "$c8" mpop "$n8" "$bytes8" \
					"$(find "$out" -type f \( -path '*/new/*' -o -path '*/cur/*' \) | wc -l)" "$n8"
				drop8 "$out"
			else
				echo "skipped: mpop in '$c8': cannot seed"
			fi
		done
		rm -rf "$work/c8"
	fi
fi

# --- 9: incremental at scale ----------------------------------------------------
# One user with 10,000 and one with 100,000 tiny messages (written straight
# into the Maildir by gen_small.py).  Dovecot scans each mailbox once before
# (a plain POP3 UIDL, untimed), then per tool: a first fetch of everything
# (its own row), and per repetition a second run with nothing new.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1}
	END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# pop3_scan PORT USER: log in (plain POP3, loopback), UIDL, QUIT.
pop3_scan() {
	"$PYTHON" - "$1" "$2" "$pw" <<'PY'
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=600)
p.user(sys.argv[2])
p.pass_(sys.argv[3])
n = len(p.uidl()[1])
p.quit()
print(n)
PY
}
if want 9; then
	# Dovecot's copy (100k files of a few hundred bytes: one block each),
	# mpop's Maildir and popvault's archive: about 1.5 GB at 100k.
	avail9=$(df -Pk "$work" | awk 'NR == 2 {print $4}')
	if [ "${avail9:-0}" -lt 3000000 ]; then
		echo "skipped: case 9: less than 3 GB free in $(dirname "$work") ($avail9 KB)"
	else
		declare -A inc9
		for n9 in 10000 100000; do
			k9=$((n9 / 1000))k
			c9f="9 first fetch $k9"
			c9i="9 incremental $k9 (none new)"
			newuser || { echo "skipped: $c9f: cannot add a user"; continue; }
			u9=$u
			md9=$work/srv/home/$u9/Maildir
			t0=$(now)
			if ! "$PYTHON" "$here/gen_small.py" tiny -q --count "$n9" --seed "$n9" \
				--maildir "$md9" --owner "$MAIL_UID:$MAIL_GID"; then
				echo "skipped: case 9 $k9: cannot seed"
				continue
			fi
			t1=$(now)
			got9=$(pop3_scan "$POP3_NOTLS_PORT" "$u9" 2>"$work/log/scan.$u9")
			t2=$(now)
			printf 'case 9: %s msgs seeded in %.1fs; Dovecot first scan (UIDL of %s) %.1fs\n' \
				"$n9" "$(echo "$t1 - $t0" | bc)" "${got9:-?}" "$(echo "$t2 - $t1" | bc)"
			bytes9=$(find "$md9/cur" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
			tools9=(popvault)
			have mpop && tools9+=(mpop)
			declare -A ok9=()
			for t in "${tools9[@]}"; do
				out=$work/out/$u9.$t
				"${t}_cmd" tls "$POP3S_PORT" "$u9" "$out"
				logname=$u9.$t.first
				# mpop's first fetch of 100k: bounded tighter, skipped if slow
				tmo0=$tmo
				[ "$t" = mpop ] && [ "$n9" -gt 10000 ] && [ "$tmo" -gt 240 ] && tmo=240
				timed "$logname" "${cmd[@]}"
				tmo9=$tmo
				tmo=$tmo0
				if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
					echo "skipped: $t in case 9 $k9: the first fetch took over ${tmo9}s; no incremental run"
					continue
				fi
				record "$c9f" "$t" "$n9" "$bytes9" "$(delivered "$t" "$out")" "$n9"
				ok9[$t]=1
			done
			for r in $(seq "$reps"); do
				echo "[$c9i: repetition $r/$reps]"
				for t in "${tools9[@]}"; do
					[ -n "${ok9[$t]:-}" ] || continue
					out=$work/out/$u9.$t
					"${t}_cmd" tls "$POP3S_PORT" "$u9" "$out"
					before=$(delivered "$t" "$out")
					logname=$u9.$t.inc$r
					timed "$logname" "${cmd[@]}"
					record "$c9i" "$t" 0 0 $(($(delivered "$t" "$out") - before)) 0
					[ "$t" = popvault ] && [ "$rc" = 0 ] && inc9[$k9]="${inc9[$k9]:-} $wall"
				done
			done
			rm -rf "$md9" "$work/out/$u9".*
		done
		if [ -n "${inc9[10k]:-}" ] && [ -n "${inc9[100k]:-}" ]; then
			# shellcheck disable=SC2086
			m10=$(median ${inc9[10k]})
			# shellcheck disable=SC2086
			m100=$(median ${inc9[100k]})
			printf 'case 9: popvault incremental 100k / 10k: %.2fs / %.2fs = %.1fx (messages 10x)\n' \
				"$m100" "$m10" "$(echo "scale=3; $m100 / $m10" | bc)"
		fi
	fi
fi

# --- 10: one 200 MB message -------------------------------------------------------
# popvault (compress none) must stream it: peak RSS under 32 MB; its stored
# .eml must be the served bytes exactly (the file is CRLF throughout, which
# Dovecot serves as stored).
c10="10 one 200 MB message"
if want 10; then
	mkdir -p "$work/c10"
	if "$PYTHON" "$here/gen_small.py" big -q --size 200000000 --seed 10 --out "$work/c10/big.eml"; then
		sum10=$(sha256sum <"$work/c10/big.eml" | cut -d' ' -f1)
		for r in $(seq "$reps"); do
			echo "[$c10: repetition $r/$reps]"
			for t in popvault mpop; do
				have "$(tool_bin $t)" || continue
				download "$c10" "$t" tls "$POP3S_PORT" "" "$work/c10/big.eml"
				if [ "$t" = popvault ] && [ "$rc" = 0 ]; then
					[ "$rss" -lt 32768 ] && v="under 32 MB" || v="OVER 32 MB"
					echo "case 10: popvault peak RSS $rss KB: $v"
					s=
					for f in "$work/out/$u.popvault"/*.tar; do
						[ -f "$f" ] || continue
						m=$(tar tf "$f" 2>/dev/null | grep '\.eml$' | head -n 1)
						[ -n "$m" ] && s=$(tar xOf "$f" "$m" | sha256sum | cut -d' ' -f1) && break
					done
					[ "$s" = "$sum10" ] && v=identical || v=DIFFERENT
					echo "case 10: popvault's stored .eml against the source: $v"
				fi
				rm -rf "$work/srv/home/$u/Maildir" "$work/out/$u.$t"
			done
		done
		rm -rf "$work/c10"
	else
		echo "skipped: $c10: cannot generate the message"
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
print("%-29s %-18s %4s %8s %8s %7s %8s %9s %9s  %s" % (
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
    rate = "%8s" % "-"
    if msgs and med > 0:  # 1 msg in 2 s (case 10): 0.50, not 0
        rate = ("%8.0f" if msgs / med >= 10 else "%8.2f") % (msgs / med)
    mbs = "%7.1f" % (nbytes / 1e6 / med) if nbytes and med > 0 else "%7s" % "-"
    vs = ""
    b = base.get(case)
    if b and tool != b[0] and b[1] > 0:
        vs = "%s / %s %.2fx" % (tool, b[0], med / b[1])
    if last is not None and case != last:
        print()
    last = case
    print("%-29s %-18s %4d %8.2f %s %s %8.2f %9d %9s  %s" % (
        case, tool, len(rs), med, rate, mbs, cpu, rss, got + "/" + str(want), vs))
print()
for m in mism:
    print(m)
print("(median wall time over the runs; cpu = client user+sys, RSS = client peak;")
print(" 'X / popvault 1.80x' = X took 1.8 times as long as that case's first popvault run)")
EOF
