#!/bin/sh
# SPDX-License-Identifier: MIT
# packaging/build-deb.sh - build the Debian package from this tree (`make deb`).
#
#   build-deb.sh OUTDIR VERSION
#
# Copies what the package is built from (Makefile, LICENSE, README.md, cmd/,
# core/, docs/, packaging/) into OUTDIR/src/popvault-VERSION, puts
# packaging/debian there as debian/, and runs `dpkg-buildpackage -us -uc -b`
# in it, so that the source tree itself gets no debian/ directory and no
# build products.  The results land in OUTDIR: popvault_VERSION_ARCH.deb
# (and the -dbgsym .deb, .buildinfo, .changes).  The build log is
# OUTDIR/build.log; its end is printed if the build fails.  The tests are
# not run (DEB_BUILD_OPTIONS=nocheck): the project's suite runs them.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: build-deb.sh OUTDIR VERSION" >&2
	exit 64
fi
out=$1
version=$2
top=$(cd "$(dirname "$0")/.." && pwd)

for t in dpkg-buildpackage dh dpkg-parsechangelog; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "build-deb.sh: $t is missing: make deps (as root) installs it" >&2
		exit 69
	}
done

cl=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
if [ "$cl" != "$version" ]; then
	echo "build-deb.sh: packaging/debian/changelog is at $cl, the Makefile at $version: add a changelog entry" >&2
	exit 65
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
case $out/ in "$top"/packaging/* | "$top"/cmd/* | "$top"/core/* | "$top"/docs/*)
	echo "build-deb.sh: $out is inside what is copied" >&2
	exit 64
	;;
esac
src=$out/src
tree=$src/popvault-$version
rm -rf "$src"
rm -f "$out"/popvault_* "$out"/popvault-dbgsym_* "$out"/build.log
mkdir -p "$tree"
(cd "$top" && tar -cf - Makefile LICENSE README.md cmd core docs packaging) |
	(cd "$tree" && tar -xf -)
cp -R "$tree/packaging/debian" "$tree/debian"

# A `make deb` variable (B=..., PREFIX=...) must not reach the package's own
# make through MAKEFLAGS: debian/rules says what it builds with.
jobs=$(nproc 2>/dev/null || echo 1)
echo "deb: dpkg-buildpackage -us -uc -b in $tree (log: $out/build.log)"
if ! (cd "$tree" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	DEB_BUILD_OPTIONS="nocheck parallel=$jobs" \
	dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "deb: the package build failed; the tree is left in $tree" >&2
	exit 1
fi
for f in "$src"/popvault_* "$src"/popvault-dbgsym_*; do
	[ -e "$f" ] && mv "$f" "$out/"
done
rm -rf "$src"
for f in "$out"/*.deb; do
	echo "deb: $f ($(du -k "$f" | cut -f1) KiB)"
done
