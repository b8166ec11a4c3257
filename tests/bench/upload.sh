#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/bench/upload.sh - how fast popvault puts messages into IMAP, against
# a peer measured in the same run.  Prints figures; asserts nothing.
#
#   upload.sh BINARY [COUNT]      (root: it starts a private Dovecot)
#
# On a throw-away Dovecot on 127.0.0.1 (tests/integration/dovecot.sh), with
# COUNT (default 1000) generated messages of the small mix:
#   - peer: Python imaplib APPENDing them one after the other (each waits
#     for its "+" and its OK: what a simple script or a non-pipelining
#     client does), over IMAPS;
#   - popvault restore of the same messages from an archive, with
#     --target-window 1 (no pipelining) and the default window;
#   - popvault migrate POP3S -> IMAPS (the whole path: RETR, hash, APPEND).
# Each into a fresh account, so every run uploads everything.  Loopback
# only; every process it starts is stopped by its PID.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
it=$here/../integration
bin=${1:?usage: upload.sh BINARY [COUNT]}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
count=${2:-1000}
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
work=$(mktemp -d /tmp/popvault-bench.XXXXXX)
cleanup() {
	"$it/dovecot.sh" stop "$work/srv" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
chmod 0755 "$work"
mkdir -p "$work/srv"
"$it/dovecot.sh" start "$work/srv" >/dev/null
# shellcheck disable=SC1091
. "$work/srv/env"
"$PYTHON" "$it/gen_corpus.py" -q --out "$work/mail" --count "$count" --size-mix small
mapfile -t files < <(find "$work/mail" -maxdepth 1 -name 'msg-*.eml' -size -1000000c | sort)
n=${#files[@]}
bytes=$(cat "${files[@]}" | wc -c)
pw=bench-$RANDOM$RANDOM
export POPVAULT_PASSWORD=$pw POPVAULT_TARGET_PASSWORD=$pw
"$it/dovecot.sh" adduser "$work/srv" src "$pw"
"$it/dovecot.sh" seed "$work/srv" src "${files[@]}"
"$bin" -q backup --from "pop3s://src@127.0.0.1:$POP3S_PORT" --archive "$work/arch" \
	--state "$work/backup.db" --cafile "$CA_FILE" >/dev/null

now() { date +%s.%N; }
declare -A secs
measure() { # NAME COMMAND...
	local t0 t1
	t0=$(now)
	if [ -n "${BENCH_TIME:-}" ]; then /usr/bin/time -f "$1: %U user %S sys %e real %M KB" "${@:2}" >/dev/null; else "${@:2}" >/dev/null; fi
	t1=$(now)
	secs[$1]=$(echo "$t1 - $t0" | bc)
}

"$it/dovecot.sh" adduser "$work/srv" peer "$pw"
measure peer "$PYTHON" "$it/imapdump.py" append --port "$IMAPS_PORT" --user peer \
	--password-env POPVAULT_TARGET_PASSWORD --cafile "$CA_FILE" --folder Bench "${files[@]}"
for w in 1 32; do
	"$it/dovecot.sh" adduser "$work/srv" "r$w" "$pw"
	measure "restore-w$w" "$bin" -q restore --archive "$work/arch" --state "$work/r$w.db" \
		--cafile "$CA_FILE" --target-window "$w" \
		--to "imaps://r$w@127.0.0.1:$IMAPS_PORT/Bench"
done
"$it/dovecot.sh" adduser "$work/srv" m "$pw"
measure migrate "$bin" -q migrate --from "pop3s://src@127.0.0.1:$POP3S_PORT" --state "$work/m.db" \
	--cafile "$CA_FILE" --to "imaps://m@127.0.0.1:$IMAPS_PORT/Bench"

printf 'upload of %d messages (%s bytes) into Dovecot over IMAPS on loopback\n' "$n" "$bytes"
printf '%-34s %8s %9s %8s\n' "run" "seconds" "msg/s" "vs peer"
for k in peer restore-w1 restore-w32 migrate; do
	s=${secs[$k]}
	printf '%-34s %8.2f %9.0f %7.2fx\n' "$k" "$s" "$(echo "$n / $s" | bc -l)" \
		"$(echo "${secs[peer]} / $s" | bc -l)"
done
echo "(peer: Python imaplib, one APPEND at a time; restore-wN: popvault restore with"
echo " --target-window N; migrate: POP3S -> IMAPS, the whole path)"
