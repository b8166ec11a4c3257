# SPDX-License-Identifier: MIT
"""fakeserver.py - what the scripted servers in this directory share:
listen on 127.0.0.1, publish the port through a file (written whole, then
renamed, so a reader never sees half of it), and serve each connection in
a thread until the server's lifetime is over.  Standard library only."""

import os
import socket
import threading
import time


def serve_forever(port, port_file, log, lifetime, serve):
    """Accept on 127.0.0.1:port (0: a free one) for 'lifetime' seconds,
    calling serve(conn, number) in a thread per connection."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(8)
    open(log, "a").close()
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, port_file)
    deadline = time.monotonic() + lifetime
    num = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        srv.settimeout(min(left, 1.0))
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        num += 1
        threading.Thread(target=serve, args=(c, num), daemon=True).start()
    srv.close()
    return 0
