#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pop3_hostile.py - a scripted POP3 server that misbehaves on purpose.

Plain TCP on 127.0.0.1, standard library only.  Serves the *.eml files of
--maildir (sorted by name: message 1 is the first) as one mailbox, to any
user with the password given by --password.  No STLS is offered.

    pop3_hostile.py --maildir DIR --password PW --port-file F --log F
                    [--lifetime SECONDS] [--port P] [FAULT]

Every command line received is appended to --log (PASS and AUTH arguments
masked), one per line, prefixed with the connection number:  "1 RETR 3".
Events the server itself causes are logged as "1 !EVENT ...".

Deletions take effect only when the server answered a QUIT: then the files of
the messages marked with DELE are removed from --maildir.

Faults (message numbers K count from 1; unrelated ones may be combined):
  --cut-after-bytes-in-retr K N  after N bytes of message K, close (FIN)
  --rst                          with --cut-after..: close with a reset
  --err-on-retr K [TEXT]         RETR K answers -ERR [SYS/TEMP] TEXT
  --err-spliced K                half of message K, then "-ERR" and close
  --stall-in-retr K              half of message K, then silence (open)
  --in-use                       PASS/AUTH answered -ERR [IN-USE]
  --dup-uidl                     messages 1 and 2 share one UIDL
  --list-size-lie K              LIST reports a wrong size for message K
  --drop-before-quit             close on QUIT without answering it
  --no-uidl                      UIDL answered -ERR
  --no-greeting                  accept, then never say anything
  --greeting-err TEXT            greet with "-ERR TEXT", then close
  --slow MS BPS                  a slow but healthy link: every answer
                                 starts MS ms late and flows at BPS bytes/s
  --uidl K HEX                   message K's UIDL is these bytes (hex; any
                                 byte, NUL and CR included); repeatable
  --uidl-omit K                  the UIDL answers leave message K out
                                 (STAT and LIST still count it); repeatable
  --list-omit K                  the same for LIST; repeatable
  --err-on-dele K [TEXT]         DELE K answers -ERR TEXT (not marked)
  --endless-line WHERE           where a line never ends: --endless-bytes
                                 of 'x' without CR LF, then silence (the
                                 connection stays open until the client
                                 leaves).  WHERE: greeting, capa (the
                                 status of every CAPA), user (the answer to
                                 USER), uidl-status, uidl (a listing line
                                 after message 1's), retr-status
  --endless-bytes N              how many bytes (default 50 MiB)

Message bytes are served as stored: dot-stuffed at every line start (the
first byte, and every byte after CR LF), bare CR, bare LF and NUL passed
through.  A file that does not end with CR LF gets one before the ".", as
Dovecot does, so what the client should archive is the file plus CR LF; an
empty file is an empty message.
"""

import argparse
import base64
import hashlib
import os
import socket
import struct
import sys
import threading
import time

import fakeserver

ENDLESS_AT = ("greeting", "capa", "user", "uidl-status", "uidl",
              "retr-status")


def parse_args():
    p = argparse.ArgumentParser(description="hostile POP3 server")
    p.add_argument("--maildir", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime", type=float, default=120)
    p.add_argument("--port", type=int, default=0,
                   help="listen on this port (default: a free one)")
    p.add_argument("--cut-after-bytes-in-retr", nargs=2, type=int,
                   metavar=("K", "N"))
    p.add_argument("--rst", action="store_true")
    p.add_argument("--err-on-retr", nargs="+", metavar="K [TEXT]")
    p.add_argument("--err-spliced", type=int, metavar="K")
    p.add_argument("--stall-in-retr", type=int, metavar="K")
    p.add_argument("--in-use", action="store_true")
    p.add_argument("--dup-uidl", action="store_true")
    p.add_argument("--list-size-lie", type=int, metavar="K")
    p.add_argument("--drop-before-quit", action="store_true")
    p.add_argument("--no-uidl", action="store_true")
    p.add_argument("--no-greeting", action="store_true")
    p.add_argument("--greeting-err", metavar="TEXT")
    p.add_argument("--slow", nargs=2, type=int, metavar=("MS", "BPS"))
    p.add_argument("--uidl", nargs=2, action="append", default=[],
                   metavar=("K", "HEX"))
    p.add_argument("--uidl-omit", type=int, action="append", default=[],
                   metavar="K")
    p.add_argument("--list-omit", type=int, action="append", default=[],
                   metavar="K")
    p.add_argument("--err-on-dele", nargs="+", metavar="K [TEXT]")
    p.add_argument("--endless-line", choices=ENDLESS_AT)
    p.add_argument("--endless-bytes", type=int, default=50 << 20,
                   metavar="N")
    a = p.parse_args()
    try:
        a.uidl = {int(k): bytes.fromhex(h) for k, h in a.uidl}
    except ValueError:
        p.error("--uidl K HEX: K a number, HEX an even number of hex digits")
    return a


ARGS = None
LOG_LOCK = threading.Lock()
MAILBOX_LOCK = threading.Lock()


def log(conn, text):
    with LOG_LOCK:
        with open(ARGS.log, "a", encoding="utf-8", errors="replace") as f:
            f.write("%d %s\n" % (conn, text))


def load_mailbox():
    names = sorted(n for n in os.listdir(ARGS.maildir) if n.endswith(".eml"))
    msgs = []
    for n in names:
        path = os.path.join(ARGS.maildir, n)
        with open(path, "rb") as f:
            data = f.read()
        uidl = hashlib.sha256(n.encode()).hexdigest()[:16].encode()
        msgs.append({"path": path, "data": data, "uidl": uidl})
    if ARGS.dup_uidl and len(msgs) >= 2:
        msgs[1]["uidl"] = msgs[0]["uidl"]
    for k, u in ARGS.uidl.items():
        if 1 <= k <= len(msgs):
            msgs[k - 1]["uidl"] = u
    return msgs


def stuffed(data):
    """The RETR payload: dot-stuffed, then ".\r\n".  A file without a final
    CRLF gets one (as Dovecot does): keep the fixtures CRLF-terminated."""
    lines = data.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = []
    for ln in lines:
        if ln.startswith(b"."):
            ln = b"." + ln
        out.append(ln + b"\r\n")
    return b"".join(out) + b".\r\n"


class Closed(Exception):
    pass


class Session:
    def __init__(self, sock, num):
        self.sock = sock
        self.num = num
        self.buf = b""
        self.msgs = None
        self.deleted = set()
        self.user = None
        self.authed = False

    def send(self, data):
        if not ARGS.slow:
            self.sock.sendall(data)
            return
        # Late, then a trickle: 1 KiB at a time at BPS bytes/s.
        ms, bps = ARGS.slow
        time.sleep(ms / 1000.0)
        for i in range(0, len(data), 1024):
            self.sock.sendall(data[i:i + 1024])
            time.sleep(min(1024, len(data) - i) / float(bps))

    def line(self, text):
        self.send(text.encode() + b"\r\n")

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed()
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.rstrip(b"\r").decode("utf-8", "replace")

    def endless(self, where):
        """If the fault is here: a line that never ends, then silence."""
        if ARGS.endless_line != where:
            return
        log(self.num, "!ENDLESS %s %d" % (where, ARGS.endless_bytes))
        chunk = b"x" * 65536
        left = ARGS.endless_bytes
        while left > 0:
            self.sock.sendall(chunk[:left])
            left -= min(left, len(chunk))
        log(self.num, "!ENDLESS sent")
        while True:
            if not self.sock.recv(65536):
                raise Closed()

    def close(self, how):
        log(self.num, "!CLOSE " + how)
        if how == "rst":
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        else:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.sock.close()
        raise Closed()

    def msg(self, arg):
        try:
            k = int(arg)
        except (TypeError, ValueError):
            return None
        if 1 <= k <= len(self.msgs) and k not in self.deleted:
            return k
        return None

    def size_of(self, k):
        n = len(self.msgs[k - 1]["data"])
        if ARGS.list_size_lie == k:
            n = n * 2 + 17
        return n

    def login_ok(self):
        if ARGS.in_use:
            self.line("-ERR [IN-USE] mailbox locked")
            log(self.num, "!IN-USE")
            return
        with MAILBOX_LOCK:
            self.msgs = load_mailbox()
        self.authed = True
        self.line("+OK maildrop has %d messages" % len(self.msgs))

    def check_plain(self, b64):
        try:
            parts = base64.b64decode(b64).split(b"\0")
        except Exception:
            return False
        return len(parts) == 3 and parts[2] == ARGS.password.encode()

    def retr(self, k):
        payload = stuffed(self.msgs[k - 1]["data"])
        self.line("+OK %d octets" % len(self.msgs[k - 1]["data"]))
        cut = ARGS.cut_after_bytes_in_retr
        if cut and cut[0] == k:
            self.send(payload[:cut[1]])
            self.close("rst" if ARGS.rst else "fin")
        if ARGS.err_spliced == k:
            half = payload[:len(payload) // 2]
            if not half.endswith(b"\r\n"):
                half += b"\r\n"
            self.send(half + b"-ERR spliced failure\r\n")
            self.close("fin")
        if ARGS.stall_in_retr == k:
            self.send(payload[:len(payload) // 2])
            log(self.num, "!STALL")
            while True:
                if not self.sock.recv(65536):
                    raise Closed()
        self.send(payload)

    def run(self):
        if ARGS.no_greeting:
            log(self.num, "!SILENT")
            while self.sock.recv(65536):
                pass  # read and say nothing, until the client leaves
            raise Closed()
        self.endless("greeting")
        if ARGS.greeting_err is not None:
            log(self.num, "!GREETING-ERR")
            self.line("-ERR " + ARGS.greeting_err)
            raise Closed()
        self.line("+OK hostile POP3 ready")
        while True:
            ln = self.readline()
            words = ln.split(" ")
            cmd = words[0].upper()
            arg = words[1:] if len(words) > 1 else []
            if cmd in ("PASS",):
                log(self.num, "PASS ***")
            elif cmd == "AUTH" and len(arg) > 1:
                log(self.num, "AUTH %s ***" % arg[0])
            else:
                log(self.num, ln)
            if cmd == "CAPA":
                self.endless("capa")
                self.line("+OK capabilities follow")
                caps = ["USER", "PIPELINING", "SASL PLAIN", "RESP-CODES",
                        "AUTH-RESP-CODE"]
                if not ARGS.no_uidl:
                    caps.append("UIDL")
                for c in caps:
                    self.line(c)
                self.line(".")
            elif cmd == "QUIT":
                if ARGS.drop_before_quit and self.authed:
                    self.close("fin")
                if self.authed and self.deleted:
                    with MAILBOX_LOCK:
                        for k in sorted(self.deleted):
                            try:
                                os.unlink(self.msgs[k - 1]["path"])
                            except FileNotFoundError:
                                pass
                    log(self.num, "!DELETED " +
                        " ".join(str(k) for k in sorted(self.deleted)))
                self.line("+OK bye")
                self.close("fin")
            elif cmd == "NOOP":
                self.line("+OK")
            elif not self.authed:
                if cmd == "USER" and arg:
                    self.endless("user")
                    self.user = arg[0]
                    self.line("+OK")
                elif cmd == "PASS":
                    if self.user is not None and \
                            " ".join(arg) == ARGS.password:
                        self.login_ok()
                    else:
                        self.line("-ERR [AUTH] invalid login")
                elif cmd == "AUTH" and arg and arg[0].upper() == "PLAIN":
                    if len(arg) > 1:
                        resp = arg[1]
                    else:
                        self.line("+ ")
                        resp = self.readline()
                        log(self.num, "***")
                    if self.check_plain(resp.strip()):
                        self.login_ok()
                    else:
                        self.line("-ERR [AUTH] invalid login")
                elif cmd == "AUTH" and not arg:
                    self.line("+OK")
                    self.line("PLAIN")
                    self.line(".")
                else:
                    self.line("-ERR not authenticated")
            elif cmd == "STAT":
                live = [k for k in range(1, len(self.msgs) + 1)
                        if k not in self.deleted]
                self.line("+OK %d %d" % (len(live), sum(
                    len(self.msgs[k - 1]["data"]) for k in live)))
            elif cmd in ("LIST", "UIDL"):
                if cmd == "UIDL" and ARGS.no_uidl:
                    self.line("-ERR UIDL not supported")
                    continue
                if cmd == "UIDL":
                    self.endless("uidl-status")

                def item(k):
                    return str(self.size_of(k)).encode() if cmd == "LIST" \
                        else self.msgs[k - 1]["uidl"]

                def listed(k):
                    omit = ARGS.uidl_omit if cmd == "UIDL" \
                        else ARGS.list_omit
                    return k not in self.deleted and k not in omit
                if arg:
                    k = self.msg(arg[0])
                    if k is None or not listed(k):
                        self.line("-ERR no such message")
                    else:
                        self.send(b"+OK %d %s\r\n" % (k, item(k)))
                    continue
                out = [b"+OK\r\n"]
                for k in range(1, len(self.msgs) + 1):
                    if listed(k):
                        out.append(b"%d %s\r\n" % (k, item(k)))
                    if k == 1 and cmd == "UIDL" and \
                            ARGS.endless_line == "uidl":
                        self.send(b"".join(out))
                        out = []
                        self.endless("uidl")
                out.append(b".\r\n")
                self.send(b"".join(out))
            elif cmd == "RETR":
                k = self.msg(arg[0] if arg else None)
                if k is None:
                    self.line("-ERR no such message")
                elif ARGS.endless_line == "retr-status":
                    self.endless("retr-status")
                elif ARGS.err_on_retr and int(ARGS.err_on_retr[0]) == k:
                    text = " ".join(ARGS.err_on_retr[1:]) or \
                        "temporary failure"
                    self.line("-ERR [SYS/TEMP] " + text)
                else:
                    self.retr(k)
            elif cmd == "DELE":
                k = self.msg(arg[0] if arg else None)
                if k is None:
                    self.line("-ERR no such message")
                elif ARGS.err_on_dele and int(ARGS.err_on_dele[0]) == k:
                    text = " ".join(ARGS.err_on_dele[1:]) or \
                        "cannot delete that message"
                    self.line("-ERR " + text)
                    log(self.num, "!DELE-REFUSED %d" % k)
                else:
                    self.deleted.add(k)
                    self.line("+OK marked")
            elif cmd == "RSET":
                self.deleted.clear()
                self.line("+OK")
            else:
                self.line("-ERR unknown command")


def serve(sock, num):
    s = Session(sock, num)
    try:
        s.run()
    except (Closed, OSError):
        pass
    finally:
        log(num, "!END")
        try:
            sock.close()
        except OSError:
            pass


def main():
    global ARGS
    ARGS = parse_args()
    return fakeserver.serve_forever(ARGS.port, ARGS.port_file, ARGS.log,
                                    ARGS.lifetime, serve)

if __name__ == "__main__":
    sys.exit(main())
