#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/run.sh - run the integration scenarios against a binary.
#
#   run.sh BINARY [t_name ...]
#
# Starts one throw-away Dovecot (dovecot.sh), generates the default corpus
# once, then runs each tests/integration/t_*.sh (or only the ones named) with
# `timeout 300`, in a fresh temp dir, with lib.sh's environment, two at a
# time (POPVAULT_IT_JOBS=N: N at a time; 1: one after the other).  A scenario
# exits 0 (pass), 1 (fail) or 77 (skip); under CI=true a skip counts as a
# failure.  Prints one PASS/FAIL/SKIP line per scenario (with the log of a
# failing one) and closes with "N passed, N failed, N skipped".  Exits 1 if
# anything failed.  POPVAULT_IT_KEEP=1 keeps the temp dir.

set -u

here=$(cd "$(dirname "$0")" && pwd)

# Debian's interpreter when present: a version manager's shim on PATH can
# cost a second per start.
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
fi
export PYTHON

if [ $# -lt 1 ]; then
	echo "usage: run.sh BINARY [t_name ...]" >&2
	exit 64
fi
bin=$1
shift
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
if [ ! -x "$bin" ]; then
	echo "run.sh: $bin is not an executable" >&2
	exit 64
fi

# Scenario list: all, or the named ones.
tests=()
if [ $# -eq 0 ]; then
	for t in "$here"/t_*.sh; do
		[ -e "$t" ] && tests+=("$(basename "$t" .sh)")
	done
else
	for t in "$@"; do
		t=$(basename "$t" .sh)
		[ -f "$here/$t.sh" ] || {
			echo "run.sh: no scenario $t" >&2
			exit 64
		}
		tests+=("$t")
	done
fi

# Dovecot's mail uid must be able to traverse the temp dir: /tmp unless
# TMPDIR says otherwise (dovecot.sh checks and says so).
work=$(mktemp -d "${TMPDIR:-/tmp}/popvault-it.XXXXXX") || exit 1
chmod 0755 "$work"
mkdir "$work/dovecot"
failed_any=0

cleanup() {
	"$here/dovecot.sh" stop "$work/dovecot" 2>/dev/null
	if [ "${POPVAULT_IT_KEEP:-0}" = 1 ] || [ "$failed_any" = 1 ]; then
		echo "run.sh: logs kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0 failed=0 skipped=0
ci=0
[ "${CI:-}" = true ] && ci=1

# If Dovecot cannot run here, every scenario is a skip (or, in CI, a fail).
dv_rc=0
"$here/dovecot.sh" start "$work/dovecot" >"$work/dovecot-start.log" 2>&1 ||
	dv_rc=$?
if [ "$dv_rc" = 0 ]; then
	# shellcheck disable=SC1091
	. "$work/dovecot/env"
	if ! "$PYTHON" "$here/gen_corpus.py" -q --out "$work/corpus" \
		>"$work/corpus.log" 2>&1; then
		dv_rc=1
		cat "$work/corpus.log" >"$work/dovecot-start.log"
	fi
fi

# run_one T: run scenario T, leaving its exit status and seconds in
# $work/T/rc (its log in $work/T/log).
run_one() {
	local t=$1 tmp=$work/$1 start rc
	mkdir -p "$tmp"
	chmod 0755 "$tmp"
	start=$(date +%s)
	if [ "$dv_rc" = 0 ]; then
		POPVAULT=$bin IT_DIR=$here TEST_NAME=$t TEST_TMP=$tmp \
			CORPUS_DIR=$work/corpus \
			timeout -k 10 300 bash "$here/$t.sh" >"$tmp/log" 2>&1 </dev/null
		rc=$?
	else
		cp "$work/dovecot-start.log" "$tmp/log"
		rc=$([ "$dv_rc" = 77 ] && echo 77 || echo 1)
	fi
	echo "$rc $(($(date +%s) - start))" >"$tmp/rc"
}

# report T: one line for scenario T (and the log of a failing one).
report() {
	local t=$1 tmp=$work/$1 rc secs why
	read -r rc secs <"$tmp/rc"
	case $rc in
	0)
		echo "PASS $t (${secs}s)"
		passed=$((passed + 1))
		;;
	77)
		why=$(grep -h '^SKIP: ' "$tmp/log" | head -n 1)
		why=${why#SKIP: }
		[ -n "$why" ] || why=$(tail -n 1 "$tmp/log")
		if [ "$ci" = 1 ]; then
			echo "FAIL $t (skipped, and CI=true does not allow skips: $why)"
			failed=$((failed + 1))
			failed_any=1
		else
			echo "SKIP $t ($why)"
			skipped=$((skipped + 1))
		fi
		;;
	*)
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			echo "FAIL $t (timed out after 300s)"
		else
			echo "FAIL $t (exit $rc, ${secs}s)"
		fi
		tail -n 80 "$tmp/log" | sed 's/^/  | /'
		failed=$((failed + 1))
		failed_any=1
		;;
	esac
}

# Scenarios run $POPVAULT_IT_JOBS at a time (default 2): each has its own
# temp dir and its own Dovecot users, and most of their time is spent
# waiting (timeouts, a server's answers), so two at a time nearly halve
# the wall time.  Lines come in the order scenarios finish.
jobs=${POPVAULT_IT_JOBS:-2}
case $jobs in '' | *[!0-9]* | 0) jobs=1 ;; esac
running=()
for t in "${tests[@]}"; do
	run_one "$t" &
	running+=("$!:$t")
	while [ "${#running[@]}" -ge "$jobs" ]; do
		wait -n 2>/dev/null
		still=()
		for r in "${running[@]}"; do
			if kill -0 "${r%%:*}" 2>/dev/null; then
				still+=("$r")
			else
				wait "${r%%:*}" 2>/dev/null
				report "${r#*:}"
			fi
		done
		running=("${still[@]}")
	done
done
for r in "${running[@]}"; do
	wait "${r%%:*}" 2>/dev/null
	report "${r#*:}"
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
