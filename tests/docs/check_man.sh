#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/docs/check_man.sh - keep the man pages honest.
#
#   check_man.sh BINARY
#
# Checks, against the program and its source:
#  - every command `BINARY --help` lists has a "<COMMAND> OPTIONS" section in
#    popvault(1), and every option its `--help` prints (long, as \-\-name,
#    and short, as \-x) is in that section or in GLOBAL OPTIONS; the global
#    options of `BINARY --help` are in GLOBAL OPTIONS;
#  - every long option of a getopt table in cmd/*.c is somewhere in
#    popvault(1) (an option missing from --help too is still caught);
#  - every config key core/config.c accepts has an entry in popvault.conf(5),
#    and every entry of its "... KEYS" sections and BLOCKS is such a key;
#  - EXIT STATUS of popvault(1) lists exactly the exit codes of the code:
#    the sysexits ones it uses (EX_* in core/ and cmd/, as "N (EX_NAME)"
#    with N from <sysexits.h>) and its own (#define FOO_EX_BAR N);
#  - the version in each page's .TH is the program's;
#  - the pages render without warnings (groff -ww, man --warnings, and
#    mandoc -T lint when installed).
# Prints one line per problem and a closing line; exits 1 if anything failed.
# A missing groff or man is a skip, a failure under CI=true.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: check_man.sh BINARY" >&2
	exit 64
fi
bin=$1
man1=$top/cmd/popvault.1
man5=$top/cmd/popvault.conf.5
pages=("$man1" "$man5")

checks=0 failed=0 skipped=0
bad()
{
	echo "check_man: FAIL: $*"
	failed=$((failed + 1))
}
skip()
{
	echo "check_man: SKIP: $*"
	skipped=$((skipped + 1))
}
ok()
{
	checks=$((checks + 1))
}

# Is $2 one of the lines of $1?  (No fork: this runs a few hundred times.)
in_list()
{
	case $'\n'"$1"$'\n' in
	*$'\n'"$2"$'\n'*) return 0 ;;
	esac
	return 1
}

# The text of section $2 (its .SH title, exactly) of page $1.
section()
{
	awk -v want="$2" '
		/^\.SH / {
			t = $0
			sub(/^\.SH +/, "", t)
			gsub(/"/, "", t)
			on = (t == want)
			next
		}
		on' "$1"
}

# Long options written as \-\-name in roff, unescaped, one per line.
roff_long()
{
	grep -oE '\\-\\-[a-z0-9]+(\\-[a-z0-9]+)*' | sed 's/\\-/-/g' | sort -u
}

# Short options written as \-x.
roff_short()
{
	grep -oE '(^|[^A-Za-z0-9\\-])\\-[A-Za-z]([^A-Za-z0-9\\]|$)' |
		sed -E 's/^.*\\-([A-Za-z]).*$/-\1/' | sort -u
}

# Options in --help text: long ones anywhere, short ones as "-x" after a
# blank, "[", "|" or ",".
help_long()
{
	grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}
help_short()
{
	grep -oE -- '(^|[][ ,|])-[A-Za-z]\b' | sed -E 's/^.*(-[A-Za-z])$/\1/' |
		sort -u
}

# --- options ------------------------------------------------------------

main_help=$("$bin" --help) || bad "'$bin --help' failed"
commands=$(printf '%s\n' "$main_help" | awk '
	/^commands:/ { on = 1; next }
	on && /^[^ ]/ { on = 0 }
	on && /^  [a-z]/ { print $1 }')
[ -n "$commands" ] || bad "no commands in '$bin --help'"

global_doc=$(section "$man1" "GLOBAL OPTIONS")
[ -n "$global_doc" ] || bad "popvault.1: no GLOBAL OPTIONS section"
global_long=$(printf '%s\n' "$global_doc" | roff_long)
global_short=$(printf '%s\n' "$global_doc" | roff_short)

for o in $(printf '%s\n' "$main_help" | help_long); do
	if in_list "$global_long" "$o"; then ok; else
		bad "popvault.1: global option $o (in 'popvault --help') is not in GLOBAL OPTIONS"
	fi
done
for o in $(printf '%s\n' "$main_help" | help_short); do
	if in_list "$global_short" "$o"; then ok; else
		bad "popvault.1: global option $o (in 'popvault --help') is not in GLOBAL OPTIONS"
	fi
done

for c in $commands; do
	title="$(printf '%s' "$c" | tr '[:lower:]' '[:upper:]') OPTIONS"
	doc=$(section "$man1" "$title")
	if [ -z "$doc" ]; then
		bad "popvault.1: no '$title' section for command $c"
		continue
	fi
	if section "$man1" SYNOPSIS | grep -qx "\.B $c"; then ok; else
		bad "popvault.1: command $c is not in the SYNOPSIS"
	fi
	help=$("$bin" "$c" --help) || {
		bad "'$bin $c --help' failed"
		continue
	}
	# "The other options are those of 'popvault backup --help'": that
	# command's section counts too.
	for r in $(printf '%s\n' "$help" | grep -oE "popvault [a-z]+ --help" |
		awk '{ print $2 }'); do
		[ "$r" = "$c" ] && continue
		doc+=$'\n'$(section "$man1" "$(printf '%s' "$r" |
			tr '[:lower:]' '[:upper:]') OPTIONS")
		title+=" or the section of $r"
	done
	long=$( (printf '%s\n' "$doc" "$global_doc") | roff_long)
	short=$( (printf '%s\n' "$doc" "$global_doc") | roff_short)
	for o in $(printf '%s\n' "$help" | help_long); do
		if in_list "$long" "$o"; then ok; else
			bad "popvault.1: $c: option $o (in 'popvault $c --help') is not in '$title'"
		fi
	done
	for o in $(printf '%s\n' "$help" | help_short); do
		if in_list "$short" "$o"; then ok; else
			bad "popvault.1: $c: option $o (in 'popvault $c --help') is not in '$title'"
		fi
	done
done

# Every option the code accepts, from the getopt tables.
page_long=$(roff_long <"$man1")
table_long=$(grep -ohE '^\s*\{"[a-z][a-z0-9-]*", *(no|required|optional)_argument' \
	"$top"/cmd/*.c | sed -E 's/^\s*\{"([^"]*)".*/--\1/' | sort -u)
[ -n "$table_long" ] || bad "no getopt tables found in cmd/*.c"
for o in $table_long; do
	if in_list "$page_long" "$o"; then ok; else
		bad "popvault.1: option $o (a getopt table in cmd/) is not documented"
	fi
done

# --- config keys --------------------------------------------------------

keys=$(grep -oE 'strcmp\(key, "[a-z_]+"\)' "$top/core/config.c" |
	sed -E 's/.*"([a-z_]+)".*/\1/' | sort -u)
[ -n "$keys" ] || bad "no config keys found in core/config.c"
# The tag of every .TP entry, and of those in the key sections.
tags_all=$(awk '
	prev == ".TP" && $1 ~ /^\.(B|BI|BR)$/ { t = $2; gsub(/"/, "", t); print t }
	{ prev = $0 }' "$man5" | sort -u)
tags_keys=$(awk '
	/^\.SH / { t = $0; sub(/^\.SH +/, "", t); gsub(/"/, "", t)
		on = (t ~ / KEYS$/ || t == "BLOCKS"); next }
	on && prev == ".TP" && $1 ~ /^\.(B|BI|BR)$/ { k = $2; gsub(/"/, "", k); print k }
	{ prev = $0 }' "$man5" | sort -u)
for k in $keys; do
	if in_list "$tags_all" "$k"; then ok; else
		bad "popvault.conf.5: config key '$k' (core/config.c) has no entry"
	fi
done
for k in $tags_keys; do
	if in_list "$keys" "$k"; then ok; else
		bad "popvault.conf.5: '$k' is documented as a key but core/config.c does not accept it"
	fi
done

# --- exit status --------------------------------------------------------

sysexits=$(printf '#include <sysexits.h>\n' | ${CC:-cc} -E -dM -x c - 2>/dev/null |
	awk '$1 == "#define" && $2 ~ /^EX_[A-Z]+$/ && $3 ~ /^[0-9]+$/ { print $2, $3 }')
[ -n "$sysexits" ] || sysexits=$(awk '$1 == "#define" && $2 ~ /^EX_[A-Z]+$/ &&
	$3 ~ /^[0-9]+$/ { print $2, $3 }' /usr/include/sysexits.h 2>/dev/null)
if [ -z "$sysexits" ]; then
	bad "cannot read <sysexits.h>"
else
	num()
	{
		printf '%s\n' "$sysexits" | awk -v n="$1" '$1 == n { print $2 }'
	}
	used=$(grep -ohE '\bEX_[A-Z]+\b' "$top"/core/*.c "$top"/cmd/*.c | sort -u)
	# "NAME NUMBER" of every exit code of the code: the sysexits ones it
	# uses, and its own, #defined as FOO_EX_BAR N (status --check's 1).
	# A literal _exit(N) is not one: the test hook's 100 is not for users.
	codes=$(for e in $used; do echo "$e $(num "$e")"; done
		grep -ohE '^#define +[A-Z0-9_]+_EX_[A-Z0-9_]+ +[0-9]+' \
			"$top"/core/*.[ch] "$top"/cmd/*.[ch] | awk '{ print $2, $3 }')
	# The tags of the EXIT STATUS entries: "N (EX_NAME)" or "N".
	listed=$(section "$man1" "EXIT STATUS" | awk '
		prev == ".TP" && $1 == ".B" { sub(/^\.B +/, ""); print }
		{ prev = $0 }')
	listed_nums=$(printf '%s\n' "$listed" | awk '{ print $1 }' | sort -u)
	code_nums=$(printf '%s\n' "$codes" | awk '{ print $2 }' | sort -u)
	while read -r e n; do
		[ -n "$e" ] || continue
		if [ -z "$n" ]; then
			bad "code uses $e, which <sysexits.h> does not define"
		elif ! in_list "$listed_nums" "$n"; then
			bad "popvault.1: EXIT STATUS has no entry for $n ($e, used in the code)"
		elif [[ $e == EX_* && $e != EX_OK ]] && ! in_list "$listed" "$n ($e)"; then
			bad "popvault.1: EXIT STATUS: the entry for $n should read '$n ($e)'"
		else
			ok
		fi
	done <<<"$codes"
	while read -r n rest; do
		[ -n "$n" ] || continue
		e=${rest#(}
		e=${e%)}
		if ! in_list "$code_nums" "$n"; then
			bad "popvault.1: EXIT STATUS lists $n${rest:+ $rest}, which no code in core/ or cmd/ returns"
		elif [ -n "$e" ] && [ "$(num "$e")" != "$n" ]; then
			bad "popvault.1: EXIT STATUS lists '$n $rest' but $e is $(num "$e")"
		else
			ok
		fi
	done <<<"$listed"
fi

# --- version ------------------------------------------------------------

version=$("$bin" --version | awk '{ print $2 }')
for p in "${pages[@]}"; do
	if grep -q "^\.TH .*\"popvault $version\"" "$p"; then ok; else
		bad "$(basename "$p"): .TH does not say \"popvault $version\""
	fi
done
if section "$man1" "SEE ALSO" | grep -q 'popvault\.conf (5)'; then ok; else
	bad "popvault.1: SEE ALSO does not name popvault.conf(5)"
fi

# --- rendering ----------------------------------------------------------

for p in "${pages[@]}"; do
	name=$(basename "$p")
	if command -v groff >/dev/null; then
		out=$(groff -man -ww -z "$p" 2>&1)
		if [ -z "$out" ]; then ok; else
			bad "$name: groff: $out"
		fi
	else
		skip "$name: groff is not installed"
	fi
	if command -v man >/dev/null; then
		out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
			man --warnings -E UTF-8 -l -Tutf8 -Z "$p" 2>&1 >/dev/null)
		if [ -z "$out" ]; then ok; else
			bad "$name: man --warnings: $out"
		fi
	else
		skip "$name: man is not installed"
	fi
	if command -v mandoc >/dev/null; then
		out=$(mandoc -T lint -W warning "$p" 2>&1)
		if [ -z "$out" ]; then ok; else
			bad "$name: mandoc: $out"
		fi
	fi
done

echo "docs: man pages: $checks passed, $failed failed, $skipped skipped"
if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
	exit 1
fi
[ "$failed" -eq 0 ]
