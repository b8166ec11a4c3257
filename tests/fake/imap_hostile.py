#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""imap_hostile.py - a scripted IMAP4rev1 server that misbehaves on purpose.

Plain TCP on 127.0.0.1, standard library only.  Never offers STARTTLS:
popvault reaches it with imap:// and --allow-plaintext.  Any user name is
accepted with the password given by --password (LOGIN or AUTHENTICATE PLAIN).

    imap_hostile.py --store DIR --password PW --port-file F --log F
                    [--lifetime SECONDS] [--port P] [FAULT]

The folders live under --store: one directory per folder (the name with
bytes outside [A-Za-z0-9._-] as '_'), each message a file <uid>.eml, and
DIR/state.json with every folder's name, UIDVALIDITY and UIDNEXT, so that a
restarted server (same --store) serves the same folders.  INBOX always
exists.  Appended messages are stored byte for byte as received.

Every command line received is appended to --log, prefixed with the
connection number ("1 pv7 APPEND ..."; LOGIN and AUTHENTICATE arguments
and the SASL response masked; APPEND literals are not logged).  Events the
server itself causes are logged as "1 !EVENT ...", e.g. "1 !STORED Folder 3"
for every stored message.

Faults (one per run; K counts the APPENDs of one connection from 1):
  --drop-after-append K     store the K-th APPEND, then close (FIN) without
                            answering it
  --no-append K TEXT        answer the K-th APPEND "NO [CANNOT] TEXT"
                            (nothing stored)
  --bad-append K            answer the K-th APPEND "BAD" (nothing stored)
  --overquota-append K      "NO [OVERQUOTA] Quota exceeded" for the K-th
                            and every later APPEND (nothing stored)
  --garbage-fetch [MODE]    answer the Message-ID UID FETCH with a malformed
                            untagged line, then a tagged OK.  MODE uid-x
                            (default): "* 1 FETCH (UID x)"; bytes: NUL and
                            8-bit bytes, unbalanced brackets; short-literal:
                            a literal announcing 9999 bytes, fewer sent (the
                            client can only time out)
  --tagged-in-literal       no fault: bodies are served faithfully; for
                            messages whose lines look like IMAP responses
"""

import argparse
import base64
import json
import os
import re
import socket
import sys
import threading
import time

import fakeserver

CAPS = "IMAP4rev1 LITERAL+ UIDPLUS AUTH=PLAIN"
REFUSED = set()  # message bytes --no-append refused


def parse_args():
    p = argparse.ArgumentParser(description="hostile IMAP server")
    p.add_argument("--store", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime", type=float, default=120)
    p.add_argument("--port", type=int, default=0,
                   help="listen on this port (default: a free one)")
    p.add_argument("--multiappend", action="store_true",
                   help="offer MULTIAPPEND (RFC 3502): an APPEND may carry "
                   "several messages, stored all or none; the faults below "
                   "count messages, and hit the whole command of the K-th")
    p.add_argument("--drop-after-append", type=int, metavar="K")
    p.add_argument("--no-append", nargs=2, metavar=("K", "TEXT"))
    p.add_argument("--bad-append", type=int, metavar="K")
    p.add_argument("--overquota-append", type=int, metavar="K")
    p.add_argument("--garbage-fetch", nargs="?", const="uid-x",
                   choices=("uid-x", "bytes", "short-literal"))
    p.add_argument("--tagged-in-literal", action="store_true")
    return p.parse_args()


ARGS = None
LOG_LOCK = threading.Lock()
STORE_LOCK = threading.Lock()


def log(conn, text):
    with LOG_LOCK:
        with open(ARGS.log, "a", encoding="utf-8", errors="replace") as f:
            f.write("%d %s\n" % (conn, text))


# ---- the store ---------------------------------------------------------------

def state_path():
    return os.path.join(ARGS.store, "state.json")


def load_state():
    try:
        with open(state_path(), encoding="utf-8") as f:
            st = json.load(f)
    except FileNotFoundError:
        st = {"folders": {}}
    if "INBOX" not in st["folders"]:
        st["folders"]["INBOX"] = new_folder()
    return st


def save_state(st):
    tmp = state_path() + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(st, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, state_path())


def new_folder():
    return {"uidvalidity": int(time.time()) % 1000000000 + 1, "uidnext": 1}


def folder_dir(name):
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    if safe.startswith("."):
        safe = "_" + safe[1:]
    return os.path.join(ARGS.store, safe)


def canon(name):
    return "INBOX" if name.upper() == "INBOX" else name


def messages(name):
    """[(uid, path)] of a folder, by UID."""
    d = folder_dir(name)
    out = []
    try:
        for n in os.listdir(d):
            m = re.fullmatch(r"([0-9]+)\.eml", n)
            if m:
                out.append((int(m.group(1)), os.path.join(d, n)))
    except FileNotFoundError:
        pass
    return sorted(out)


def store_message(name, data):
    """Store data in folder name; return (uidvalidity, uid)."""
    with STORE_LOCK:
        st = load_state()
        f = st["folders"][name]
        uid = f["uidnext"]
        f["uidnext"] = uid + 1
        d = folder_dir(name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "%d.eml" % uid)
        with open(path + ".tmp", "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.rename(path + ".tmp", path)
        save_state(st)
        return f["uidvalidity"], uid


def message_id_lines(data):
    """The Message-ID header field (with its folded lines) + CRLF CRLF, as
    BODY[HEADER.FIELDS (MESSAGE-ID)] would answer."""
    end = data.find(b"\r\n\r\n")
    head = data if end < 0 else data[:end + 2]
    out = []
    keep = False
    for ln in head.split(b"\r\n"):
        if ln[:1] in (b" ", b"\t"):
            if keep:
                out.append(ln + b"\r\n")
            continue
        keep = ln.lower().startswith(b"message-id:")
        if keep:
            out.append(ln + b"\r\n")
    return b"".join(out) + b"\r\n"


# ---- parsing -------------------------------------------------------------------

class Closed(Exception):
    pass


def tokens(s):
    """Split an IMAP argument string into atoms, quoted strings and
    parenthesised lists (kept as one raw token, parentheses included)."""
    out = []
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == " ":
            i += 1
        elif c == '"':
            i += 1
            v = []
            while i < n and s[i] != '"':
                if s[i] == "\\" and i + 1 < n:
                    i += 1
                v.append(s[i])
                i += 1
            i += 1
            out.append(("q", "".join(v)))
        elif c == "(":
            depth = 0
            j = i
            while j < n:
                if s[j] == "(":
                    depth += 1
                elif s[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append(("l", s[i:j + 1]))
            i = j + 1
        else:
            j = i
            while j < n and s[j] != " ":
                j += 1
            out.append(("a", s[i:j]))
            i = j
    return out


def quote(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def list_match(pattern, name):
    rx = "".join(".*" if c == "*" else "[^.]*" if c == "%" else re.escape(c)
                 for c in pattern)
    if pattern.upper().startswith("INBOX") and name == "INBOX":
        return re.fullmatch(rx, name, re.I) is not None
    return re.fullmatch(rx, name) is not None


def uid_set(spec, uids):
    """The UIDs of uids (sorted) that a sequence set of UIDs names."""
    top = uids[-1] if uids else 0
    want = set()
    for part in spec.split(","):
        if ":" in part:
            a, b = part.split(":", 1)
            a = top if a == "*" else int(a)
            b = top if b == "*" else int(b)
            lo, hi = min(a, b), max(a, b)
            want.update(u for u in uids if lo <= u <= hi)
        else:
            u = top if part == "*" else int(part)
            if u in uids:
                want.add(u)
    return sorted(want)


# ---- a connection ---------------------------------------------------------------

class Session:
    def __init__(self, sock, num):
        self.sock = sock
        self.num = num
        self.buf = b""
        self.authed = False
        self.selected = None
        self.appends = 0

    def send(self, data):
        self.sock.sendall(data)

    def line(self, text):
        self.send(text.encode() + b"\r\n")

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed()
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.rstrip(b"\r").decode("utf-8", "surrogateescape")

    def readn(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise Closed()
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def close(self, how):
        log(self.num, "!CLOSE " + how)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        raise Closed()

    def check_plain(self, b64):
        try:
            parts = base64.b64decode(b64).split(b"\0")
        except Exception:
            return False
        return len(parts) == 3 and parts[2] == ARGS.password.encode()

    def run(self):
        self.line("* OK [CAPABILITY %s] ready" % CAPS)
        while True:
            ln = self.readline()
            parts = ln.split(" ", 2)
            tag = parts[0]
            cmd = parts[1].upper() if len(parts) > 1 else ""
            rest = parts[2] if len(parts) > 2 else ""
            if cmd == "LOGIN":
                log(self.num, "%s LOGIN ***" % tag)
            elif cmd == "AUTHENTICATE":
                log(self.num, "%s AUTHENTICATE %s" %
                    (tag, rest.split(" ")[0] + (" ***" if " " in rest else "")))
            else:
                log(self.num, ln)
            if cmd == "UID":
                sub = rest.split(" ", 1)
                cmd = "UID " + sub[0].upper()
                rest = sub[1] if len(sub) > 1 else ""
            handler = getattr(self, "c_" + cmd.replace(" ", "_"), None)
            if not cmd or handler is None:
                self.line("%s BAD unknown command" % tag)
                continue
            if not self.authed and cmd not in ("CAPABILITY", "LOGIN",
                                               "AUTHENTICATE", "LOGOUT",
                                               "NOOP"):
                self.line("%s NO not authenticated" % tag)
                continue
            handler(tag, rest)

    # -- any state
    def c_CAPABILITY(self, tag, rest):
        self.line("* CAPABILITY " + CAPS)
        self.line("%s OK done" % tag)

    def c_NOOP(self, tag, rest):
        self.line("%s OK done" % tag)

    def c_LOGOUT(self, tag, rest):
        self.line("* BYE logging out")
        self.line("%s OK done" % tag)
        self.close("fin")

    def c_LOGIN(self, tag, rest):
        t = tokens(rest)
        if len(t) == 2 and t[1][1] == ARGS.password:
            self.authed = True
            self.line("%s OK [CAPABILITY %s] logged in" % (tag, CAPS))
        else:
            self.line("%s NO [AUTHENTICATIONFAILED] invalid login" % tag)

    def c_AUTHENTICATE(self, tag, rest):
        words = rest.split(" ")
        if words[0].upper() != "PLAIN":
            self.line("%s NO unsupported mechanism" % tag)
            return
        if len(words) > 1:
            resp = words[1]
        else:
            self.line("+ ")
            resp = self.readline()
            log(self.num, "***")
        if resp.strip() == "*":
            self.line("%s BAD cancelled" % tag)
        elif self.check_plain(resp.strip()):
            self.authed = True
            self.line("%s OK [CAPABILITY %s] logged in" % (tag, CAPS))
        else:
            self.line("%s NO [AUTHENTICATIONFAILED] invalid login" % tag)

    # -- authenticated
    def c_LIST(self, tag, rest):
        t = tokens(rest)
        if len(t) != 2:
            self.line("%s BAD LIST arguments" % tag)
            return
        pattern = t[1][1]
        with STORE_LOCK:
            names = sorted(load_state()["folders"])
        if pattern == "":
            self.line('* LIST (\\Noselect) "." ""')
        else:
            for name in names:
                if list_match(pattern, name):
                    self.line('* LIST (\\HasNoChildren) "." %s' % quote(name))
        self.line("%s OK done" % tag)

    def c_CREATE(self, tag, rest):
        t = tokens(rest)
        if len(t) != 1:
            self.line("%s BAD CREATE arguments" % tag)
            return
        name = canon(t[0][1])
        with STORE_LOCK:
            st = load_state()
            if name in st["folders"]:
                self.line("%s NO [ALREADYEXISTS] exists" % tag)
                return
            st["folders"][name] = new_folder()
            os.makedirs(folder_dir(name), exist_ok=True)
            save_state(st)
        self.line("%s OK created" % tag)

    def select(self, tag, rest, ro):
        t = tokens(rest)
        if len(t) != 1:
            self.line("%s BAD arguments" % tag)
            return
        name = canon(t[0][1])
        with STORE_LOCK:
            st = load_state()
            f = st["folders"].get(name)
        if f is None:
            self.selected = None
            self.line("%s NO [NONEXISTENT] no such folder" % tag)
            return
        self.selected = name
        self.line("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
        self.line("* %d EXISTS" % len(messages(name)))
        self.line("* 0 RECENT")
        self.line("* OK [UIDVALIDITY %d] UIDs valid" % f["uidvalidity"])
        self.line("* OK [UIDNEXT %d] next" % f["uidnext"])
        self.line("%s OK [%s] done" % (tag, "READ-ONLY" if ro else
                                        "READ-WRITE"))

    def c_SELECT(self, tag, rest):
        self.select(tag, rest, False)

    def c_EXAMINE(self, tag, rest):
        self.select(tag, rest, True)

    def c_CLOSE(self, tag, rest):
        self.selected = None
        self.line("%s OK done" % tag)

    def c_UID_FETCH(self, tag, rest):
        if self.selected is None:
            self.line("%s BAD no folder selected" % tag)
            return
        spec, _, items = rest.partition(" ")
        items = items.upper()
        msgs = messages(self.selected)
        seq_of = {uid: k + 1 for k, (uid, _) in enumerate(msgs)}
        path_of = dict(msgs)
        try:
            want = uid_set(spec, [u for u, _ in msgs])
        except ValueError:
            self.line("%s BAD bad sequence set" % tag)
            return
        mid = "HEADER.FIELDS (MESSAGE-ID)" in items
        if mid and ARGS.garbage_fetch:
            log(self.num, "!GARBAGE " + ARGS.garbage_fetch)
            if ARGS.garbage_fetch == "uid-x":
                self.send(b"* 1 FETCH (UID x)\r\n")
            elif ARGS.garbage_fetch == "bytes":
                self.send(b"\x00\xff\xfe)) garbage {{ ((\r\n")
            else:
                # a literal that announces more than it holds, then the tag:
                # the client reads the tag line as literal bytes and waits
                self.send(b"* 1 FETCH (UID 1 BODY[HEADER.FIELDS (MESSAGE-ID)]"
                          b" {9999}\r\nMessage-ID: <x@y>\r\n\r\n)\r\n")
            self.line("%s OK done" % tag)
            return
        for uid in want:
            with open(path_of[uid], "rb") as f:
                data = f.read()
            if mid:
                data = message_id_lines(data)
                name = "BODY[HEADER.FIELDS (MESSAGE-ID)]"
            else:
                name = "BODY[]"
            self.send(("* %d FETCH (UID %d %s {%d}\r\n" %
                       (seq_of[uid], uid, name, len(data))).encode() +
                      data + b")\r\n")
        self.line("%s OK done" % tag)

    def c_APPEND(self, tag, rest):
        m = re.search(r"\{([0-9]+)(\+?)\}$", rest)
        if not m:
            self.line("%s BAD APPEND without a literal" % tag)
            return
        t = tokens(rest[:m.start()])
        name = canon(t[0][1]) if t else ""
        size = int(m.group(1))
        with STORE_LOCK:
            exists = name in load_state()["folders"]
        if not m.group(2):
            if not exists:
                self.line("%s NO [TRYCREATE] no such folder" % tag)
                return
            self.line("+ go")
        msgs = [self.readn(size)]
        tail = self.readline()  # the end of the command line
        # MULTIAPPEND: more messages follow, each " (flags) "date" {n+}".
        while ARGS.multiappend and tail:
            nm = re.fullmatch(r' \([^)]*\)(?: "[^"]*")? \{([0-9]+)\+\}', tail)
            if not nm:
                break
            msgs.append(self.readn(int(nm.group(1))))
            tail = self.readline()
        if tail:
            log(self.num, "!APPEND-TAIL " + tail)
        first = self.appends + 1
        self.appends += len(msgs)
        ks = range(first, self.appends + 1)
        if len(msgs) > 1:
            log(self.num, "!MULTIAPPEND %d-%d" % (first, self.appends))
        if not exists:
            self.line("%s NO [TRYCREATE] no such folder" % tag)
            return
        # A fault on any message of the command refuses all of it.
        if ARGS.overquota_append and self.appends >= ARGS.overquota_append:
            log(self.num, "!OVERQUOTA %d" % self.appends)
            self.line("%s NO [OVERQUOTA] Quota exceeded" % tag)
            return
        # --no-append K refuses the K-th message, and the same bytes
        # whenever they come again (a server refuses content, not a count).
        if ARGS.no_append and int(ARGS.no_append[0]) in ks:
            REFUSED.add(msgs[int(ARGS.no_append[0]) - first])
        if any(d in REFUSED for d in msgs):
            log(self.num, "!REFUSED %s" % ARGS.no_append[0])
            self.line("%s NO [CANNOT] %s" % (tag, ARGS.no_append[1]))
            return
        if ARGS.bad_append in ks:
            log(self.num, "!BAD %d" % ARGS.bad_append)
            self.line("%s BAD invalid arguments (scripted fault)" % tag)
            return
        uids = []
        for data in msgs:
            uv, uid = store_message(name, data)
            uids.append(uid)
            log(self.num, "!STORED %s %d" % (name, uid))
        if ARGS.drop_after_append in ks:
            self.close("fin")
        uidset = "%d" % uids[0] if len(uids) == 1 else "%d:%d" % (uids[0],
                                                                  uids[-1])
        self.line("%s OK [APPENDUID %d %s] done" % (tag, uv, uidset))


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
    global ARGS, CAPS
    ARGS = parse_args()
    if ARGS.multiappend:
        CAPS += " MULTIAPPEND"
    os.makedirs(ARGS.store, exist_ok=True)
    with STORE_LOCK:
        save_state(load_state())
    return fakeserver.serve_forever(ARGS.port, ARGS.port_file, ARGS.log,
                                    ARGS.lifetime, serve)

if __name__ == "__main__":
    sys.exit(main())
