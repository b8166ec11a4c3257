#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""faultproxy.py - a fault-injecting TCP proxy in front of a real server.

Listens on 127.0.0.1 and relays every connection to 127.0.0.1:--upstream
(Dovecot in the tests), breaking it on purpose.  Standard library only.

    faultproxy.py --upstream PORT --port-file F --log F [--lifetime S]
                  [--port P] [--proto pop3|imap] [--tls-in CERT KEY]
                  [--tls-out CAFILE] [--wire F] [--conn N] [FAULT...]

Modes.  Without --proto the proxy relays bytes and counts them.  With
--proto it also follows the protocol: every command line the client sends
is logged ("1 C RETR 3"; credentials masked) and answers are matched to
commands, so a fault can hit "the 3rd RETR".  It can do that only where it
sees plain text: on a plain connection until STLS/STARTTLS succeeds (from
then on it relays bytes), or everywhere when it terminates TLS itself:
--tls-in CERT KEY makes it the TLS server the client talks to (implicit
TLS, as on ports 995 and 993) and --tls-out CAFILE makes it a verifying TLS
client of the upstream.  The client still verifies a certificate (the
proxy's), so popvault runs with its normal, verified TLS.

Faults hit connection --conn N only (counting from 1; 0: every connection).
  --drop-conn N[,N...]      close those connections as soon as accepted
  --cut-after N             pass N bytes from the server, then close
  --flip N                  invert the low bit of the server's N-th byte
                            (counting from 0); under TLS the record breaks
  --rst                     every close this proxy makes is a reset
  --at VERB K ACTION        the client's K-th VERB command (--proto):
      close                   not forwarded; the connection is closed
      err:TEXT                not forwarded; answered "-ERR TEXT" (pop3)
      stall                   forwarded; from its answer on, the client
                              hears nothing more (the connection stays)
      silent                  forwarded; once the server answered it, the
                              connection is closed without the answer
      cut:N                   forwarded; N bytes of its answer (pop3) or
                              N bytes of the command itself (imap: the
                              middle of an APPEND literal), then close
  --strip-cap WORD          remove WORD from the capabilities (CAPA lines,
                            IMAP CAPABILITY lists) the server announces
  --refuse-starttls         answer STLS/STARTTLS with an error itself
  --inject-after-starttls TEXT
                            add TEXT (\\r\\n escapes allowed) right after
                            the server's positive answer to STLS/STARTTLS,
                            before the TLS handshake

--wire F appends every byte relayed, both ways, to F: what an eavesdropper
on the link would see.  The proxy's own events are logged as "1 !EVENT".
"""

import argparse
import re
import select
import socket
import ssl
import struct
import sys
import threading
import time
from collections import deque

import fakeserver

ARGS = None
LOG_LOCK = threading.Lock()
MAX_LINE = 1 << 20


def log(num, text):
    with LOG_LOCK:
        with open(ARGS.log, "a", encoding="utf-8", errors="replace") as f:
            f.write("%d %s\n" % (num, text))


def wire(data):
    if ARGS.wire and data:
        with LOG_LOCK:
            with open(ARGS.wire, "ab") as f:
                f.write(data)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime", type=float, default=120)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--proto", choices=("pop3", "imap"))
    p.add_argument("--tls-in", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--tls-out", metavar="CAFILE")
    p.add_argument("--wire")
    p.add_argument("--conn", type=int, default=1)
    p.add_argument("--drop-conn", default="")
    p.add_argument("--cut-after", type=int)
    p.add_argument("--flip", type=int)
    p.add_argument("--rst", action="store_true")
    p.add_argument("--at", nargs=3, action="append", default=[],
                   metavar=("VERB", "K", "ACTION"))
    p.add_argument("--strip-cap")
    p.add_argument("--refuse-starttls", action="store_true")
    p.add_argument("--inject-after-starttls")
    a = p.parse_args()
    a.drop = {int(x) for x in a.drop_conn.split(",") if x}
    a.faults = {}
    for verb, k, action in a.at:
        if not a.proto:
            p.error("--at needs --proto")
        if not re.fullmatch(r"close|stall|silent|err:.*|cut:\d+", action):
            p.error("--at: unknown action %r" % action)
        a.faults[(verb.upper(), int(k))] = action
    if a.inject_after_starttls is not None:
        a.inject = a.inject_after_starttls.encode().replace(
            b"\\r", b"\r").replace(b"\\n", b"\n")
    else:
        a.inject = None
    return a


class Closed(Exception):
    pass


class Cmd:
    """A command whose answer the proxy is waiting for."""

    def __init__(self, verb, multi=False, action=None, tag=None):
        self.verb = verb
        self.multi = multi  # may answer with a multi-line response
        self.action = action
        self.tag = tag
        self.inject = None  # answered by the proxy: these bytes
        self.passed = 0  # bytes of the answer passed so far


def pop3_multi(verb, line):
    if verb in ("CAPA", "RETR", "TOP"):
        return True
    if verb in ("UIDL", "LIST"):
        return len(line.split()) == 1
    return False


class Relay:
    def __init__(self, num, client):
        self.num = num
        self.c = client
        self.s = None
        self.faulty = ARGS.conn in (0, num)
        self.to_c = bytearray()
        self.to_s = bytearray()
        self.c_eof = self.s_eof = False
        self.closing = False  # close once to_c is written
        self.stalled = False
        self.s2c_bytes = 0
        # protocol following (None once relaying TLS bytes blindly)
        self.proto = ARGS.proto
        self.c_raw = self.s_raw = ARGS.proto is None
        self.c_line = bytearray()
        self.s_line = bytearray()
        self.c_literal = 0  # imap: bytes of a client literal still due
        self.s_literal = 0
        self.c_budget = None  # imap cut:N: command bytes still to pass
        self.c_cont = False  # imap: the next line ends a command's literal
        self.counts = {}
        self.pending = deque()
        self.cur = None
        self.starttls_tag = None
        if self.proto:
            self.pending.append(Cmd("GREETING"))

    # ---- setting up ----------------------------------------------------
    def open(self):
        if ARGS.tls_in:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(ARGS.tls_in[0], ARGS.tls_in[1])
            self.c.settimeout(10)
            self.c = ctx.wrap_socket(self.c, server_side=True)
        s = socket.create_connection(("127.0.0.1", ARGS.upstream), 10)
        if ARGS.tls_out:
            ctx = ssl.create_default_context(cafile=ARGS.tls_out)
            s = ctx.wrap_socket(s, server_hostname="localhost")
        self.s = s
        self.c.setblocking(False)
        self.s.setblocking(False)

    # ---- closing ---------------------------------------------------------
    def hard_close(self, why):
        log(self.num, "!CLOSE %s%s" % (why, " (reset)" if ARGS.rst else ""))
        for sock in (self.c, self.s):
            if sock is None:
                continue
            try:
                if ARGS.rst:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                else:
                    # a FIN without TLS's close_notify: a cut, not an end
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass
        raise Closed()

    def close_after_flush(self, why):
        if not self.closing:
            log(self.num, "!CUT %s" % why)
        self.closing = True

    # ---- server to client ------------------------------------------------
    def emit(self, data):
        """Queue bytes for the client, applying the byte-count faults."""
        if not data or self.closing or self.stalled:
            return
        if self.faulty and ARGS.flip is not None:
            off = ARGS.flip - self.s2c_bytes
            if 0 <= off < len(data):
                data = bytearray(data)
                data[off] ^= 0x01
                log(self.num, "!FLIP byte %d" % ARGS.flip)
        if self.faulty and ARGS.cut_after is not None:
            room = ARGS.cut_after - self.s2c_bytes
            if room <= len(data):
                data = data[:max(room, 0)]
                self.close_after_flush("after %d bytes" % ARGS.cut_after)
        self.s2c_bytes += len(data)
        self.to_c += data

    def from_server(self, data):
        wire(data)
        if self.s_raw:
            self.emit(data)
            return
        buf = memoryview(bytes(data))
        while len(buf) and not self.s_raw and not self.closing:
            if self.s_literal:
                n = min(self.s_literal, len(buf))
                self.s_answer(bytes(buf[:n]), literal=True)
                self.s_literal -= n
                buf = buf[n:]
                continue
            i = bytes(buf).find(b"\n")
            if i < 0:
                self.s_line += buf
                if len(self.s_line) > MAX_LINE:
                    # an endless line: pass it on as it comes
                    self.s_answer(bytes(self.s_line), literal=True)
                    self.s_line.clear()
                return
            self.s_line += buf[:i + 1]
            buf = buf[i + 1:]
            line = bytes(self.s_line)
            self.s_line.clear()
            self.s_answer(line)
        if len(buf):
            self.emit(bytes(buf))

    def s_answer(self, line, literal=False):
        if self.proto == "pop3":
            self.pop3_answer(line, literal)
        else:
            self.imap_answer(line, literal)

    def pop3_answer(self, line, literal):
        if self.cur is None:
            self.flush_injected()
            self.cur = self.pending.popleft() if self.pending else Cmd("?")
            self.cur.multi = self.cur.multi and line.startswith(b"+OK")
            self.cur.first = True
        cmd = self.cur
        first = cmd.first
        cmd.first = False
        done = literal is False and (
            not cmd.multi or (not first and line == b".\r\n"))
        if self.faulty and cmd.action is not None:
            act = cmd.action
            if act == "stall":
                log(self.num, "!STALL in the answer to %s" % cmd.verb)
                self.stalled = True
                return
            if act == "silent":
                if done:
                    self.close_after_flush("instead of the answer to %s"
                                           % cmd.verb)
                return
            if act.startswith("cut:"):
                n = int(act[4:])
                room = n - cmd.passed
                if room <= len(line):
                    self.emit(line[:room])
                    self.close_after_flush("%d bytes into the answer to %s"
                                           % (n, cmd.verb))
                    return
        cmd.passed += len(line)
        if (ARGS.strip_cap and cmd.verb == "CAPA" and not first and
                line.strip().upper() == ARGS.strip_cap.upper().encode()):
            log(self.num, "!STRIP %s" % ARGS.strip_cap)
            return
        self.emit(line)
        if cmd.verb == "STLS" and line.startswith(b"+OK"):
            if ARGS.inject is not None:
                log(self.num, "!INJECT after STLS")
                self.emit(ARGS.inject)
            self.s_raw = True
        if done:
            self.cur = None
            self.flush_injected()

    def flush_injected(self):
        while self.cur is None and self.pending and \
                self.pending[0].inject is not None:
            self.emit(self.pending.popleft().inject)

    def imap_answer(self, line, literal):
        if literal:
            self.emit(line)
            return
        m = re.search(rb"\{(\d+)\+?\}\r?\n$", line)
        if m:
            self.s_literal = int(m.group(1))
        if ARGS.strip_cap and (line.startswith(b"* CAPABILITY ") or
                               b"[CAPABILITY " in line):
            word = re.escape(ARGS.strip_cap.encode())
            new = re.sub(rb"(?i) " + word + rb"(?=[ \]\r])", b"", line)
            if new != line:
                log(self.num, "!STRIP %s" % ARGS.strip_cap)
            line = new
        tag = line.split(b" ", 1)[0].decode("ascii", "replace")
        for cmd in list(self.pending):
            if cmd.tag == tag and self.faulty and cmd.action == "silent":
                self.close_after_flush("instead of the answer to %s %s"
                                       % (tag, cmd.verb))
                return
        if tag == self.starttls_tag and line.split(b" ")[1:2] == [b"OK"]:
            self.emit(line)
            if ARGS.inject is not None:
                log(self.num, "!INJECT after STARTTLS")
                self.emit(ARGS.inject)
            self.s_raw = True
            return
        self.emit(line)

    # ---- client to server ------------------------------------------------
    def forward(self, data):
        if self.c_budget is not None:
            n = min(self.c_budget, len(data))
            self.to_s += data[:n]
            wire(data[:n])
            self.c_budget -= n
            if self.c_budget == 0:
                self.hard_close("in the middle of a command")
            return
        self.to_s += data
        wire(data)

    def from_client(self, data):
        if self.c_raw:
            self.forward(data)
            return
        buf = bytes(data)
        while buf and not self.c_raw:
            if self.c_literal:
                n = min(self.c_literal, len(buf))
                self.forward(buf[:n])
                self.c_literal -= n
                buf = buf[n:]
                continue
            i = buf.find(b"\n")
            if i < 0:
                self.c_line += buf
                if len(self.c_line) > MAX_LINE:
                    self.forward(bytes(self.c_line))
                    self.c_line.clear()
                return
            self.c_line += buf[:i + 1]
            buf = buf[i + 1:]
            line = bytes(self.c_line)
            self.c_line.clear()
            if self.proto == "pop3":
                self.pop3_command(line)
            else:
                self.imap_command(line)
        if buf:
            self.forward(buf)

    def count(self, verb):
        self.counts[verb] = self.counts.get(verb, 0) + 1
        k = self.counts[verb]
        return ARGS.faults.get((verb, k)) if self.faulty else None

    def pop3_command(self, line):
        words = line.split()
        verb = words[0].decode("ascii", "replace").upper() if words else ""
        shown = line.rstrip(b"\r\n").decode("ascii", "replace")
        if verb == "PASS" or verb == "AUTH" and len(words) > 2:
            shown = verb + " ***" if verb == "PASS" else "AUTH %s ***" % \
                words[1].decode("ascii", "replace")
        elif verb not in ("USER", "AUTH", "CAPA", "STLS", "STAT", "LIST",
                          "UIDL", "RETR", "TOP", "DELE", "NOOP", "RSET",
                          "QUIT", "APOP"):
            shown = "*** (%d bytes)" % len(line)  # a SASL response
        log(self.num, "C " + shown)
        action = self.count(verb)
        cmd = Cmd(verb, pop3_multi(verb, line), action)
        if verb == "STLS" and ARGS.refuse_starttls:
            log(self.num, "!REFUSE STLS")
            cmd.inject = b"-ERR TLS not available here\r\n"
            self.pending.append(cmd)
            self.flush_injected()
            return
        if action == "close":
            self.hard_close("instead of forwarding %s" % verb)
        if action is not None and action.startswith("err:"):
            log(self.num, "!ERR for %s" % shown)
            cmd.inject = b"-ERR " + action[4:].encode() + b"\r\n"
            self.pending.append(cmd)
            self.flush_injected()
            return
        self.pending.append(cmd)
        self.forward(line)
        if verb == "STLS":
            self.c_raw = True

    def imap_command(self, line):
        m = re.search(rb"\{(\d+)\+?\}\r?\n$", line)
        cont = self.c_cont
        self.c_cont = bool(m)
        if m:
            self.c_literal = int(m.group(1))
        if cont:
            self.forward(line)  # the rest of a command after a literal
            return
        words = line.split()
        tag = words[0].decode("ascii", "replace") if words else ""
        verb = words[1].decode("ascii", "replace").upper() \
            if len(words) > 1 else ""
        if verb == "UID" and len(words) > 2:
            verb = "UID " + words[2].decode("ascii", "replace").upper()
        if verb in ("LOGIN", "AUTHENTICATE"):
            shown = "%s %s ***" % (tag, verb)
        elif verb == "":
            shown = "*** (%d bytes)" % len(line)  # a SASL response
        else:
            shown = line.rstrip(b"\r\n").decode("ascii", "replace")
            shown = shown[:200]
        log(self.num, "C " + shown)
        action = self.count(verb)
        if verb == "STARTTLS":
            if ARGS.refuse_starttls:
                log(self.num, "!REFUSE STARTTLS")
                self.emit(tag.encode() + b" NO TLS not available here\r\n")
                return
            self.starttls_tag = tag
            self.c_raw = True
        if action == "close":
            self.hard_close("instead of forwarding %s" % verb)
        if action == "stall":
            log(self.num, "!STALL from %s on" % verb)
            self.stalled = True
        if action is not None and action.startswith("cut:"):
            self.c_budget = int(action[4:])
        self.pending.append(Cmd(verb, action=action, tag=tag))
        while len(self.pending) > 1000:
            self.pending.popleft()
        self.forward(line)

    # ---- the loop ----------------------------------------------------------
    def run(self, deadline):
        while time.monotonic() < deadline:
            if self.closing and not self.to_c:
                self.hard_close("as planned")
            if self.c_eof and not self.to_s and not self.closing:
                log(self.num, "!CLIENT closed")
                break
            if self.s_eof and not self.to_c:
                log(self.num, "!SERVER closed")
                break
            rd = []
            if not self.c_eof and len(self.to_s) < (1 << 20):
                rd.append(self.c)
            if not self.s_eof and len(self.to_c) < (1 << 20) and \
                    not self.stalled:
                rd.append(self.s)
            wr = []
            if self.to_c:
                wr.append(self.c)
            if self.to_s:
                wr.append(self.s)
            ready = [x for x in rd
                     if isinstance(x, ssl.SSLSocket) and x.pending()]
            r, w, _ = select.select(rd, wr, [], 0 if ready else 0.2)
            for sock in set(r) | set(ready):
                try:
                    data = sock.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError,
                        BlockingIOError):
                    continue
                except (ssl.SSLError, OSError):
                    data = b""
                if sock is self.c:
                    if not data:
                        self.c_eof = True
                    else:
                        self.from_client(data)
                else:
                    if not data:
                        self.s_eof = True
                    else:
                        self.from_server(data)
            for sock in w:
                buf = self.to_c if sock is self.c else self.to_s
                try:
                    n = sock.send(buf[:65536])
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError,
                        BlockingIOError):
                    continue
                except (ssl.SSLError, OSError):
                    raise Closed()
                del buf[:n]


def serve(sock, num):
    if num in ARGS.drop:
        log(num, "!DROP at accept")
        if ARGS.rst:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
        sock.close()
        return
    r = Relay(num, sock)
    try:
        r.open()
        log(num, "!OPEN")
        r.run(START + ARGS.lifetime)
    except Closed:
        pass
    except (OSError, ssl.SSLError) as e:
        log(num, "!ERROR %s" % e)
    finally:
        for x in (r.c, r.s):
            try:
                if x is not None:
                    x.close()
            except OSError:
                pass
        log(num, "!END")


def main():
    global ARGS, START
    ARGS = parse_args()
    START = time.monotonic()
    return fakeserver.serve_forever(ARGS.port, ARGS.port_file, ARGS.log,
                                    ARGS.lifetime, serve)


if __name__ == "__main__":
    sys.exit(main())
