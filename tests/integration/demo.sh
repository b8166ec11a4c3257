#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/demo.sh - `make demo`: popvault end to end on this machine.
#
#   demo.sh BINARY
#
# Starts a throw-away Dovecot on loopback (see dovecot.sh), fills a mailbox
# with generated mail, backs it up over POP3S, lists the archive, shows
# `popvault status`, runs the backup again (nothing new), then plays the
# disaster: deletes the state db and restores the volumes into a new IMAP
# account over IMAPS (twice: the second run uploads nothing), verifies
# archive and folder, stops Dovecot and leaves everything under ./demo/
# (gitignored): the archive volumes, the state db and the generated
# messages, to look at.  Needs root (Dovecot).

set -eu

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 1 ]; then
	echo "usage: demo.sh BINARY" >&2
	exit 64
fi
bin=$1
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
[ -x "$bin" ] || {
	echo "demo.sh: $bin is not an executable (run: make)" >&2
	exit 1
}
if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: the demo runs a private Dovecot server, which needs root." >&2
	echo "         Run it as root, e.g.: sudo make demo" >&2
	exit 1
fi
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3

demo=$PWD/demo
srv=$(mktemp -d "/tmp/popvault-demo.XXXXXX")
stop() {
	"$here/dovecot.sh" stop "$srv" 2>/dev/null || true
	rm -rf "$srv"
}
trap stop EXIT

step() {
	if [ -t 1 ]; then
		printf '\n\033[1m==> %s\033[0m\n' "$*"
	else
		printf '\n==> %s\n' "$*"
	fi
}

# Shown before it runs, so the user sees what a real invocation looks like.
show_run() {
	printf '$ %s\n' "$*"
	"$@"
}

step "Starting a throw-away Dovecot on 127.0.0.1 (test CA, high ports)"
"$here/dovecot.sh" start "$srv"
# shellcheck disable=SC1091
. "$srv/env"
echo "POP3S on 127.0.0.1:$POP3S_PORT, certificate signed by a CA made just now"

step "Filling the mailbox 'demo' with 25 generated messages"
mkdir -p "$demo"
rm -rf "$demo/archive" "$demo/mailbox" "$demo"/state.db*
mkdir -p "$demo/archive"
"$PYTHON" "$here/gen_corpus.py" -q --out "$demo/mailbox" --count 25
cp "$CA_FILE" "$demo/test-ca.pem"
POPVAULT_PASSWORD="demo-$RANDOM$RANDOM"
POPVAULT_TARGET_PASSWORD="restored-$RANDOM$RANDOM"
export POPVAULT_PASSWORD POPVAULT_TARGET_PASSWORD
"$here/dovecot.sh" adduser "$srv" demo "$POPVAULT_PASSWORD"
"$here/dovecot.sh" seed "$srv" demo "$demo"/mailbox/msg-*.eml
echo "$(ls "$demo"/mailbox/msg-*.eml | wc -l) messages," \
	"$(cat "$demo"/mailbox/msg-*.eml | wc -c) bytes (copies in demo/mailbox/)"

url="pop3s://demo@127.0.0.1:$POP3S_PORT"
cd "$demo/.."
step "Backing up (the password comes from POPVAULT_PASSWORD, never the command line)"
show_run "$bin" backup --from "$url" --archive demo/archive \
	--state demo/state.db --cafile demo/test-ca.pem

step "The archive: ordinary tar.gz volumes, one member per message"
for v in demo/archive/*.tar*; do
	show_run tar -tzvf "$v"
done

step "What the state db knows"
show_run "$bin" status --state demo/state.db

step "Backing up again: incremental, nothing new to fetch"
show_run "$bin" backup --from "$url" --archive demo/archive \
	--state demo/state.db --cafile demo/test-ca.pem

step "Disaster: the state db is lost; restoring from the volumes alone"
rm -f demo/state.db demo/state.db-wal demo/state.db-shm demo/state.db.lock
"$here/dovecot.sh" adduser "$srv" restored "$POPVAULT_TARGET_PASSWORD"
echo "(a new IMAP account 'restored'; its password comes from POPVAULT_TARGET_PASSWORD)"
show_run "$bin" restore --archive demo/archive \
	--to "imaps://restored@127.0.0.1:$IMAPS_PORT/Restored" \
	--state demo/state.db --cafile demo/test-ca.pem

step "Restoring again: everything is there already, nothing is uploaded twice"
show_run "$bin" restore --archive demo/archive \
	--to "imaps://restored@127.0.0.1:$IMAPS_PORT/Restored" \
	--state demo/state.db --cafile demo/test-ca.pem

step "Verifying the archive, and that the IMAP folder holds what was uploaded"
show_run "$bin" verify --archive demo/archive \
	--to "imaps://restored@127.0.0.1:$IMAPS_PORT/Restored" \
	--state demo/state.db --cafile demo/test-ca.pem

step "Done"
cat <<EOF
Dovecot is stopped; everything is left in demo/:
  demo/archive/     the volumes (tar -tzvf / tar -xzf them; see docs/ARCHIVE.md)
  demo/state.db     the state db (sqlite3 -readonly demo/state.db .tables)
  demo/mailbox/     the messages the server held, to compare:
                    mkdir x; for v in demo/archive/*.tar.gz; do tar -xzf "\$v" -C x; done
                    sha256sum x/*/*.eml; sha256sum demo/mailbox/*.eml
EOF
