#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/docs/check_completion.sh - the bash completion
# (packaging/bash-completion/popvault) against the program.
#
#   check_completion.sh BINARY
#
# Sources the completion in a fresh bash, once with bash-completion's own
# helpers (_init_completion, _filedir; when installed) and once without
# them, sets COMP_WORDS/COMP_CWORD as bash would for a command line, calls
# the completion function and compares COMPREPLY with what is expected:
# command names, each command's options (those its --help prints), the
# values of enumerated options, directories and files for path options,
# and account names from the config file given with -C/--config or found
# at the default location.  Prints one line per failing case and a closing
# line; exits 1 if anything failed.  Without bash-completion installed its
# mode is skipped (a failure under CI=true).

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: check_completion.sh BINARY" >&2
	exit 64
fi
bin=$1
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
comp=$top/packaging/bash-completion/popvault
helpers=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home/.config/popvault" "$tmp/xdg/popvault" "$tmp/arch-dir"
: >"$tmp/arch-file"
cat >"$tmp/cfg" <<'EOF'
# accounts for the completion test
defaults
archive /nonexistent
account work
from pop3s://alice@pop.example.com
  account   home
from pop3://bob@mail.example.org
account "with space"
from pop3s://carol@pop.example.com
EOF
printf 'account default-one\nfrom pop3s://d@example.org\n' \
	>"$tmp/home/.config/popvault/config"
printf 'account xdg-one\nfrom pop3s://x@example.org\n' >"$tmp/xdg/popvault/config"

passed=0 failed=0 skipped=0

# The cases of one mode are run by one bash (sourcing bash-completion costs
# a while, and the completion keeps each --help it read): add() writes a
# case into $cases and its expected reply into $tmp/want; run() runs them
# all and compares.
cases=$tmp/cases
lines=()
: >"$tmp/want"

# add WANT LINE WORD...: for the command line LINE as typed (COMP_LINE),
# split into the WORDs as bash splits it (the last one is being completed;
# "--opt=value" is "--opt" "=" "value"), COMPREPLY must be WANT (one per
# line, any order).
add()
{
	local n=${#lines[@]} w
	lines[n]=$2
	while IFS= read -r w; do
		[ -n "$w" ] && printf '%d\t%s\n' "$n" "$w" >>"$tmp/want"
	done <<<"$1"
	shift 2
	{
		printf 'run_case %d %q' "$n" "${lines[n]}"
		printf ' %q' "$@"
		printf '\n'
	} >>"$cases"
}

# "N<TAB>ITEM" lines on stdin: per N, one line "N<TAB>ITEM|ITEM|...",
# sorted.
joined()
{
	LC_ALL=C sort -t "$(printf '\t')" -k1,1n -k2 | awk -F '\t' '
		$1 != n { if (started) print n "\t" s; n = $1; s = $2; started = 1; next }
		{ s = s "|" $2 }
		END { if (started) print n "\t" s }'
}

# add_env 'export X=...' or 'unset X': run between cases.
add_env()
{
	printf '%s\n' "$1" >>"$cases"
}

run()
{
	local mode=$1 out n j
	local -A got want
	out=$(HOME=$tmp/home MODE=$mode HELPERS=$helpers COMP=$comp \
		CASES=$cases bash --norc --noprofile -c '
		unset XDG_CONFIG_HOME
		if [ "$MODE" = helpers ]; then
			. "$HELPERS" || exit 3
			declare -F _init_completion >/dev/null || exit 3
		fi
		. "$COMP" || exit 3
		declare -F _popvault >/dev/null || exit 3
		run_case()
		{
			local n=$1 r
			COMP_LINE=$2
			COMP_POINT=${#COMP_LINE}
			shift 2
			COMP_WORDS=("$@")
			COMP_CWORD=$(($# - 1))
			COMPREPLY=()
			_popvault popvault "${COMP_WORDS[COMP_CWORD]}" \
				"${COMP_WORDS[COMP_CWORD - 1]}"
			for r in "${COMPREPLY[@]}"; do
				[ -n "$r" ] && printf "%d\t%s\n" "$n" "$r"
			done
		}
		. "$CASES"
	') || {
		failed=$((failed + 1))
		echo "check_completion: FAIL ($mode): the completion could not be loaded or run"
		return
	}
	while IFS=$'\t' read -r n j; do
		got[$n]=$j
	done < <(printf '%s\n' "$out" | sed '/^$/d' | joined)
	while IFS=$'\t' read -r n j; do
		want[$n]=$j
	done < <(joined <"$tmp/want")
	for n in "${!lines[@]}"; do
		if [ "${got[$n]-}" = "${want[$n]-}" ]; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			echo "check_completion: FAIL ($mode): '${lines[n]}'"
			echo "  expected: ${want[$n]-}"
			echo "  got:      ${got[$n]-}"
		fi
	done
}

# What the program says, read here independently of the completion.
commands=$("$bin" --help | awk '
	/^commands:/ { on = 1; next }
	on && /^[^ ]/ { on = 0 }
	on && /^  [a-z]/ { print $1 }')
long_of()
{
	"$bin" "$@" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}
global_opts=$(long_of)
# The global options every command takes after it (popvault(1), GLOBAL
# OPTIONS), as far as the program has them.
after=$(printf '%s\n' "$global_opts" | grep -xE -- '--(config|help|log-format)')
backup_opts=$( (long_of backup; echo "$after") | sort -u)
migrate_opts=$( (long_of migrate; long_of backup; echo "$after") | sort -u)
status_opts=$( (long_of status; echo "$after") | sort -u)
restore_opts=$( (long_of restore; echo "$after") | sort -u)

# addw WANT WORD...: add, the command line being the words joined.
addw()
{
	local w=$1
	shift
	add "$w" "$*" "$@"
}

cases_add()
{
	local b=$bin
	accounts=$'work\nhome\nwith space'

	# commands
	addw "$commands" "$b" ''
	addw status "$b" st
	addw "$commands" "$b" -C "$tmp/cfg" -v ''
	addw "$global_opts" "$b" --
	# each command's options, from its --help
	addw "$backup_opts" "$b" backup --
	addw "$migrate_opts" "$b" migrate --
	addw "$status_opts" "$b" -q status --
	addw "$restore_opts" "$b" restore --
	addw $'--target-password-command\n--target-password-file\n--target-window\n--timeout\n--to' \
		"$b" migrate --t
	# enumerated values
	addw $'gzip\nnone\nxz\nzstd' "$b" backup --compress ''
	addw zstd "$b" migrate --compress z
	add zstd "$b backup --compress=z" "$b" backup --compress = z
	addw XOAUTH2 "$b" backup --auth X
	addw $'pop3,engine' "$b" -d pop3,e
	addw $'imap' "$b" status -d im
	# paths
	addw "$tmp/arch-dir" "$b" backup --archive "$tmp/arch-"
	add "$tmp/arch-dir" "$b backup --archive=$tmp/arch-" \
		"$b" backup --archive = "$tmp/arch-"
	addw "$tmp/arch-dir"$'\n'"$tmp/arch-file" \
		"$b" backup --state "$tmp/arch-"
	addw "$tmp/cfg" "$b" -C "$tmp/cf"
	# no value to offer: a URL, a number
	addw '' "$b" migrate --to ''
	addw '' "$b" backup --jobs ''
	# account names: arguments of backup and migrate, --account of restore
	addw "$accounts" "$b" -C "$tmp/cfg" backup ''
	addw work "$b" backup --config "$tmp/cfg" wo
	addw "$accounts" "$b" migrate --delete -C "$tmp/cfg" ''
	add "$accounts" "$b restore --config=$tmp/cfg --account " \
		"$b" restore --config = "$tmp/cfg" --account ''
	addw home "$b" -C "$tmp/cfg" restore --account h
	addw '' "$b" -C "$tmp/cfg" restore ''
	# the default config: $XDG_CONFIG_HOME, else ~/.config
	addw default-one "$b" backup ''
	add_env "export XDG_CONFIG_HOME=$tmp/xdg"
	addw xdg-one "$b" backup ''
	add_env "unset XDG_CONFIG_HOME"
}

cases_add
if [ -r "$helpers" ] && bash -c ". '$helpers' && declare -F _init_completion" >/dev/null 2>&1; then
	run helpers
else
	echo "check_completion: SKIP: bash-completion is not installed ($helpers)"
	skipped=$((skipped + 1))
fi
run plain

echo "docs: bash completion: $passed passed, $failed failed, $skipped skipped"
if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
	exit 1
fi
[ "$failed" -eq 0 ]
