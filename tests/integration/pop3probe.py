#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/integration/pop3probe.py - an independent POP3 client for the tests.

A second opinion on what the server holds, written straight on sockets (no
poplib: it splits lines and so hides CR/LF details).  RETR replies are read
to the terminating line and dot-unstuffed byte for byte.

  pop3probe.py [--tls implicit|stls|off] [--cafile PEM] HOST PORT USER CMD

  CMD:  stat            print "COUNT OCTETS"
        uidl            print "N UIDL" lines
        list            print "N SIZE" lines
        fetch DIR       write every message to DIR/N.eml, print "N SHA256"
        capa            print the CAPA lines

The password comes from the environment (POPVAULT_PASSWORD), never argv.
Exit: 0 ok, 1 protocol/IO error, 77 login rejected.
"""

import argparse
import hashlib
import os
import socket
import ssl
import sys


class Pop3:
    def __init__(self, host, port, tls, cafile, timeout=30):
        self.host = host
        sock = socket.create_connection((host, port), timeout=timeout)
        self.ctx = None
        if tls != "off":
            self.ctx = ssl.create_default_context(cafile=cafile)
        if tls == "implicit":
            sock = self.ctx.wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.buf = b""
        self.greeting = self.line()
        if not self.greeting.startswith(b"+OK"):
            raise IOError("bad greeting %r" % self.greeting)
        if tls == "stls":
            self.cmd(b"STLS")
            self.sock = self.ctx.wrap_socket(self.sock, server_hostname=host)
            self.buf = b""

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise IOError("connection closed by server")
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def send(self, data):
        self.sock.sendall(data + b"\r\n")

    def cmd(self, data):
        self.send(data)
        r = self.line()
        if not r.startswith(b"+OK"):
            raise Pop3Err(r)
        return r

    def multiline(self):
        """Read a multi-line body to ".\\r\\n"; return unstuffed bytes."""
        end = b"\r\n.\r\n"
        # The body starts right after the status line; the terminator may
        # immediately follow an empty body.
        data = bytearray(b"\r\n")
        pos = 0
        while True:
            if self.buf:
                data += self.buf
                self.buf = b""
            i = data.find(end, pos)
            if i >= 0:
                self.buf = bytes(data[i + len(end):])
                body = bytes(data[2:i + 2])
                break
            pos = max(0, len(data) - len(end) + 1)
            self._fill()
        # Dot-unstuffing: a line beginning with "." lost its first dot.
        out = []
        for ln in body.split(b"\r\n"):
            out.append(ln[1:] if ln.startswith(b".") else ln)
        return b"\r\n".join(out)

    def login(self, user, password):
        self.cmd(b"USER " + user.encode())
        self.cmd(b"PASS " + password.encode())

    def quit(self):
        try:
            self.cmd(b"QUIT")
        finally:
            self.sock.close()


class Pop3Err(Exception):
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tls", choices=("implicit", "stls", "off"),
                    default="implicit")
    ap.add_argument("--cafile")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("user")
    ap.add_argument("command", choices=("stat", "uidl", "list", "fetch",
                                        "capa"))
    ap.add_argument("arg", nargs="?")
    a = ap.parse_args()
    pw = os.environ.get("POPVAULT_PASSWORD", "")
    try:
        p = Pop3(a.host, a.port, a.tls, a.cafile)
        if a.command == "capa":
            p.cmd(b"CAPA")
            sys.stdout.write(p.multiline().decode("ascii", "replace"))
            p.quit()
            return 0
        try:
            p.login(a.user, pw)
        except Pop3Err as e:
            print("pop3probe: login rejected: %s" % e, file=sys.stderr)
            return 77
        if a.command == "stat":
            print(p.cmd(b"STAT").split()[1].decode(),
                  p.cmd(b"STAT").split()[2].decode())
        elif a.command in ("uidl", "list"):
            p.cmd(a.command.upper().encode())
            sys.stdout.write(p.multiline().decode("ascii", "replace"))
        elif a.command == "fetch":
            os.makedirs(a.arg, exist_ok=True)
            n = int(p.cmd(b"STAT").split()[1])
            for i in range(1, n + 1):
                p.cmd(b"RETR %d" % i)
                data = p.multiline()
                with open(os.path.join(a.arg, "%d.eml" % i), "wb") as f:
                    f.write(data)
                print(i, hashlib.sha256(data).hexdigest())
        p.quit()
    except (OSError, Pop3Err, ssl.SSLError) as e:
        print("pop3probe: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
