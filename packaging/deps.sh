#!/bin/sh
# Install what building, testing and the demo need on Debian 12 (as root).
# Used by `make deps` (the README's two commands) and by .ci/run.
# The line from dpkg-dev on is for `make deb` and `make check-package`:
# dpkg-buildpackage, dh, lintian, man (man -w), systemd-analyze (the package
# is built without root, Rules-Requires-Root: no, so fakeroot is not needed).
# groff-base, mandoc and bash-completion are for `make check-docs` (the man
# pages rendered and linted, the completion run with bash-completion's
# helpers).
set -eu
if [ "$(id -u)" -ne 0 ]; then
	echo "packaging/deps.sh: run as root (or: sudo make deps ...)" >&2
	exit 1
fi
pkgs="build-essential make pkg-config libcurl4-openssl-dev libssl-dev
libarchive-dev zlib1g-dev libsqlite3-dev libcmocka-dev clang-14 clang
libclang-rt-14-dev clang-format cppcheck dovecot-core dovecot-pop3d
dovecot-imapd libarchive-tools sqlite3 python3 openssl curl ca-certificates
procps iproute2 psmisc util-linux time python3-jsonschema
dpkg-dev debhelper lintian man-db systemd
groff-base mandoc bash-completion"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
# Packages must not start system services (Dovecot on ports 110/143/993/995):
# the tests start their own, on loopback high ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
