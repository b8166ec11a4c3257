#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/package/run.sh - the Debian package end to end (make check-package).
#
#   run.sh [DEBDIR]
#
# As root: builds the package with `make deb` from the tree this script is
# in (into DEBDIR, default build/deb), checks what the .deb holds, runs
# lintian on it, installs it with dpkg -i, then checks the installed
# package: `popvault --version` from /usr/bin, `man -w popvault`, the
# example configs (each must be a config popvault accepts),
# `systemd-analyze verify` and `systemd-analyze security` of the units, and
# that the service's ExecStart, run as it stands for a throw-away instance
# whose account is unreachable on 127.0.0.1, fails with the network status
# 75 (EX_TEMPFAIL) and not with a usage or config error (64, 78); where
# systemd runs (not in a container), also started as that instance through
# systemd, so that the sandbox is exercised.  Last it
# purges the package and checks that none of its files is left.  The
# package is purged on any exit (trap); every step is bounded by timeout(1).
#
# Prints one PASS/FAIL/SKIP line per check and closes with
# "package: N passed, N failed, N skipped".  A check that cannot run here
# is skipped, except under CI=true, where a skip counts as a failure (like
# tests/integration/run.sh): CI's machine has what packaging/deps.sh
# installs.  Refuses to run (exit 1) if popvault is installed already, as a
# package or as /usr/bin/popvault: it would replace and then purge it.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
debdir=${1:-$top/build/deb}
case $debdir in /*) ;; *) debdir=$top/$debdir ;; esac

pass=0 fail=0 skip=0
ok() {
	echo "PASS: $*"
	pass=$((pass + 1))
}
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}
skipped() {
	if [ "${CI:-}" = true ]; then
		bad "$* (a skip is a failure under CI=true)"
	else
		echo "SKIP: $*"
		skip=$((skip + 1))
	fi
}
finish() {
	echo "package: $pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
	exit $?
}
# Indent a command's output under the check it belongs to.
show() { sed 's/^/    /' "$@"; }

if [ "$(id -u)" -ne 0 ]; then
	skipped "tests/package/run.sh needs root (dpkg -i, dpkg -P)"
	finish
fi
for t in dpkg-buildpackage dh lintian man flock timeout python3; do
	command -v "$t" >/dev/null 2>&1 || {
		bad "$t is missing: make deps (packaging/deps.sh) installs it"
		finish
	}
done

version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' "$top/Makefile")
arch=$(dpkg --print-architecture)
deb=$debdir/popvault_${version}_$arch.deb
unitdir=/lib/systemd/system
inst=pkgtest$$ # the throw-away instance of popvault-backup@.service
work=$(mktemp -d "${TMPDIR:-/tmp}/popvault-pkg.XXXXXX") || exit 1
made_etc="" made_lib="" installed=""

# One run of this test at a time on a machine: the package is system-wide.
exec 9>"${TMPDIR:-/tmp}/popvault-check-package.lock"
if ! flock -w 900 9; then
	bad "another check-package run held the lock for 15 minutes"
	finish
fi

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "$installed" ] &&
		dpkg-query -W -f='${db:Status-Status}' popvault 2>/dev/null |
		grep -qv '^not-installed$'; then
		echo "cleanup: dpkg -P popvault"
		timeout 120 dpkg -P popvault >/dev/null 2>&1 ||
			echo "cleanup: dpkg -P popvault failed: remove it by hand" >&2
	fi
	rm -f "/etc/popvault/$inst.conf" "/etc/popvault/$inst.pw"
	rm -rf "/var/lib/popvault/$inst"
	[ -n "$made_etc" ] && rmdir /etc/popvault 2>/dev/null
	[ -n "$made_lib" ] && rmdir /var/lib/popvault 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if dpkg-query -W -f='${db:Status-Status}' popvault 2>/dev/null |
	grep -qv '^not-installed$' || [ -e /usr/bin/popvault ]; then
	bad "popvault is installed already (package or /usr/bin/popvault): this test would replace and purge it; remove it first"
	finish
fi

# --- the build -------------------------------------------------------------
if timeout 900 make -s -C "$top" deb DEBDIR="$debdir" >"$work/build.out" 2>&1 &&
	[ -f "$deb" ]; then
	ok "make deb: $deb ($(du -k "$deb" | cut -f1) KiB)"
else
	show "$work/build.out"
	bad "make deb did not produce $deb"
	finish
fi

# --- what the .deb holds -----------------------------------------------------
timeout 60 dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\.||' >"$work/contents"
missing=""
for f in /usr/bin/popvault /usr/share/man/man1/popvault.1.gz \
	$unitdir/popvault-backup@.service $unitdir/popvault-backup@.timer \
	/usr/share/doc/popvault/copyright \
	/usr/share/doc/popvault/examples/nightly.conf \
	/usr/share/doc/popvault/examples/migrate.conf \
	/usr/share/doc/popvault/examples/systemd-archive-dir.conf; do
	grep -qxF "$f" "$work/contents" || missing="$missing $f"
done
if [ -z "$missing" ]; then
	ok "the .deb holds the binary, the man page, the units, the examples and the copyright ($(grep -vc '/$' "$work/contents") files, installed size $(dpkg-deb -f "$deb" Installed-Size) KiB)"
else
	bad "the .deb lacks:$missing"
fi

# --- lintian: errors and warnings fail; an accepted tag needs an override in
# packaging/debian/popvault.lintian-overrides, with its reason beside it.
timeout 300 lintian --fail-on error,warning --display-info --show-overrides \
	"$deb" >"$work/lintian" 2>&1
rc=$?
grep -v 'running with root privileges is not recommended' "$work/lintian" >"$work/lintian.tags"
if [ "$rc" -eq 0 ]; then
	ok "lintian $(lintian --version | sed 's/^Lintian v//'): $(grep -c . "$work/lintian.tags") tag(s) (errors and warnings fail)"
	show "$work/lintian.tags"
else
	show "$work/lintian.tags"
	bad "lintian (exit $rc)"
fi

# --- install -------------------------------------------------------------------
# Debian's container images exclude /usr/share/man and most of
# /usr/share/doc from every package (path-exclude in /etc/dpkg/dpkg.cfg.d/).
# There the package is installed with --path-include for its man pages and
# its docs and examples (the command line's options come after the
# config's, and for dpkg the last matching one wins): what is checked below is
# then the package's own files, installed as an image without the excludes
# would install them.
includes=()
if grep -hqs '^[[:space:]]*path-exclude' /etc/dpkg/dpkg.cfg /etc/dpkg/dpkg.cfg.d/*; then
	includes=(--path-include='/usr/share/man/man?/popvault*'
		--path-include='/usr/share/doc/popvault/*')
	echo "note: dpkg has path-exclude rules here; installing with ${includes[*]}"
fi
installed=yes
if timeout 300 dpkg "${includes[@]}" -i "$deb" >"$work/install" 2>&1; then
	ok "dpkg -i $(basename "$deb")"
else
	show "$work/install"
	bad "dpkg -i (missing dependencies? make deps installs the libraries)"
	finish
fi
dpkg-query -L popvault >"$work/files"

out=$(timeout 10 /usr/bin/popvault --version 2>&1)
if [ "$out" = "popvault $version" ]; then
	ok "/usr/bin/popvault --version: $out"
else
	bad "/usr/bin/popvault --version said '$out', not 'popvault $version'"
fi

page=$(timeout 30 man -w popvault 2>&1)
if [ "$page" = /usr/share/man/man1/popvault.1.gz ] &&
	MANWIDTH=100 timeout 30 man -P cat popvault 2>/dev/null |
	grep -q 'popvault-backup@'; then
	ok "man -w popvault: $page (renders, names the units)"
else
	bad "man -w popvault said '$page' (or the page does not render or name popvault-backup@)"
fi
if grep -qx /usr/share/man/man5/popvault.conf.5.gz "$work/contents"; then
	page=$(timeout 30 man -w 5 popvault.conf 2>&1)
	if [ "$page" = /usr/share/man/man5/popvault.conf.5.gz ]; then
		ok "man -w 5 popvault.conf: $page"
	else
		bad "man -w 5 popvault.conf said '$page'"
	fi
fi

# The shipped example configs are configs popvault accepts: each one, with
# its hosts moved to a closed port on 127.0.0.1 and its paths into a temp
# dir, must fail on the network (75), not on the config (78) or usage (64).
port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
mkdir -m 0700 "$work/ex" "$work/ex/lib"
for f in office home imap; do
	install -m 0600 /dev/null "$work/ex/$f.pw"
	echo not-a-password >"$work/ex/$f.pw"
done
for ex in nightly:backup migrate:migrate; do
	name=${ex%%:*} cmd=${ex#*:}
	sed -e "s|/etc/popvault/|$work/ex/|g; s|/var/lib/popvault/|$work/ex/lib/|g" \
		-e "s|@[a-z.-]*\.example\.[a-z]*|@127.0.0.1:$port|g" \
		"/usr/share/doc/popvault/examples/$name.conf" >"$work/ex/$name.conf"
	timeout 60 /usr/bin/popvault --config "$work/ex/$name.conf" "$cmd" \
		--connect-timeout 10s --state "$work/ex/lib/$name.db" \
		>"$work/ex/$name.out" 2>&1
	rc=$?
	if [ "$rc" -eq 75 ]; then
		ok "examples/$name.conf is accepted by popvault $cmd (exit 75 on a closed port)"
	else
		show "$work/ex/$name.out"
		bad "examples/$name.conf: popvault $cmd exited $rc, not 75"
	fi
done

# --- the units -----------------------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify loads the template through an instance, checks every key and
	# that ExecStart's binary exists: any message is a failure.
	out=$(cd / && timeout 60 systemd-analyze verify \
		"popvault-backup@$inst.service" "popvault-backup@$inst.timer" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
		ok "systemd-analyze verify popvault-backup@$inst.service popvault-backup@$inst.timer: no message"
	else
		echo "$out" | show
		bad "systemd-analyze verify (exit $rc)"
	fi
	# the sandbox, scored from the unit file alone; above 3.0 ("OK") fails
	out=$(cd / && timeout 60 systemd-analyze security --offline=yes \
		--threshold=30 "popvault-backup@$inst.service" 2>&1)
	rc=$?
	level=$(echo "$out" | grep 'Overall exposure level' | sed 's/.*: //')
	if [ "$rc" -eq 0 ]; then
		ok "systemd-analyze security --offline: exposure $level"
	else
		echo "$out" | grep -v '✓' | show
		bad "systemd-analyze security --offline: exposure $level, above 3.0"
	fi
else
	skipped "systemd-analyze is not installed (package systemd): the units are not verified"
fi

# The service's ExecStart exactly as installed, for instance $inst: the
# config /etc/popvault/$inst.conf names one account on a closed port.
exec_line=$(sed -n 's/^ExecStart=//p' "$unitdir/popvault-backup@.service")
specs=$(printf '%s\n' "$exec_line" | grep -o '%.' | sort -u | tr '\n' ' ')
if [ "$(printf '%s\n' "$exec_line" | grep -c .)" -ne 1 ] ||
	{ [ -n "$specs" ] && [ "$specs" != "%i " ]; }; then
	bad "ExecStart='$exec_line': expected one line using only the %i specifier"
else
	cmdline=${exec_line//%i/$inst}
	read -r -a argv <<<"$cmdline"
	[ -d /etc/popvault ] || { mkdir -m 0700 /etc/popvault && made_etc=yes; }
	[ -d /var/lib/popvault ] || made_lib=yes
	install -m 0600 /dev/null "/etc/popvault/$inst.pw"
	echo not-a-password >"/etc/popvault/$inst.pw"
	cat >"/etc/popvault/$inst.conf" <<-EOF
		# throw-away config of tests/package/run.sh
		defaults
		archive /var/lib/popvault/$inst/archive
		connect_timeout 10s
		timeout 10s

		account unreachable
		from pop3s://nobody@127.0.0.1:$port
		password_file /etc/popvault/$inst.pw
	EOF
	timeout 60 "${argv[@]}" >"$work/exec.out" 2>&1
	rc=$?
	if [ "$rc" -eq 75 ] && [ -f "/var/lib/popvault/$inst/state.db" ]; then
		ok "ExecStart as installed ($cmdline): exit 75 on a closed port, state in /var/lib/popvault/$inst"
	else
		show "$work/exec.out"
		bad "ExecStart as installed ($cmdline) exited $rc, not 75 (64: usage, 78: config)"
	fi
	# Under a running systemd, the same through the unit itself: the
	# sandbox must leave it its state directory and the network.
	if [ -d /run/systemd/system ]; then
		rm -rf "/var/lib/popvault/$inst"
		timeout 120 systemctl start "popvault-backup@$inst.service" >/dev/null 2>&1
		status=$(systemctl show -P ExecMainStatus "popvault-backup@$inst.service")
		timeout 30 journalctl -q -b -u "popvault-backup@$inst.service" -n 20 --no-pager \
			>"$work/unit.log" 2>&1
		timeout 30 systemctl reset-failed "popvault-backup@$inst.service" 2>/dev/null
		if [ "$status" = 75 ]; then
			ok "systemctl start popvault-backup@$inst.service: exit 75 in its sandbox"
		else
			show "$work/unit.log"
			bad "systemctl start popvault-backup@$inst.service: exit '$status', not 75"
		fi
	else
		echo "note: systemd is not running here (PID 1 is $(ps -o comm= -p 1)): the unit's sandbox is checked by systemd-analyze only, not run"
	fi
	rm -f "/etc/popvault/$inst.conf" "/etc/popvault/$inst.pw"
	rm -rf "/var/lib/popvault/$inst"
	[ -n "$made_etc" ] && rmdir /etc/popvault 2>/dev/null
	[ -n "$made_lib" ] && rmdir /var/lib/popvault 2>/dev/null
	made_etc="" made_lib=""
fi

# --- purge ---------------------------------------------------------------------
if timeout 120 dpkg -P popvault >"$work/purge" 2>&1; then
	installed=""
	left=""
	while IFS= read -r f; do
		case $f in /.) continue ;; esac
		# a shared directory (/usr/bin, /lib/systemd/system) stays; the
		# package's own ones must go
		if [ -d "$f" ]; then
			case $f in *popvault*) ;; *) continue ;; esac
		fi
		{ [ -e "$f" ] || [ -L "$f" ]; } && left="$left $f"
	done <"$work/files"
	status=$(dpkg-query -W -f='${db:Status-Status}' popvault 2>/dev/null)
	if [ -z "$left" ] && { [ -z "$status" ] || [ "$status" = not-installed ]; }; then
		ok "dpkg -P popvault: none of its $(grep -c . "$work/files") paths is left"
	else
		bad "after dpkg -P popvault (status '$status') these are left:$left"
	fi
else
	show "$work/purge"
	bad "dpkg -P popvault"
fi

finish
