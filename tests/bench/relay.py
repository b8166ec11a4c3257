#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/bench/relay.py - a TCP delay line on loopback, to measure how a
client behaves over a link with a round-trip time (the benchmark's
"latency" case).

    relay.py --target PORT [--listen PORT] [--delay-ms 12.5] [--port-file F]

Listens on 127.0.0.1 (--listen 0: the kernel picks; the port is written to
--port-file once listening), connects each client to 127.0.0.1:--target,
and forwards every chunk, in each direction, --delay-ms after it arrived.
It is a delay line, not a throttle: a chunk that arrives at t leaves at
t + delay even if earlier chunks are still waiting, order is kept, and
reading goes on while chunks wait.  One-way delay 12.5 ms each way gives a
25 ms round trip.  Bytes pass through untouched, so TLS works end to end.
Runs until killed (SIGTERM/SIGINT).
"""

import argparse
import os
import asyncio
import signal
import sys


async def pump(reader, writer, delay):
    """Copy reader -> writer, each chunk `delay` seconds after it arrived."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def sender():
        try:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    if writer.can_write_eof():
                        writer.write_eof()
                    await writer.drain()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass

    task = asyncio.ensure_future(sender())
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, data if data else None))
            if not data:
                break
    except (ConnectionError, OSError):
        queue.put_nowait((loop.time() + delay, None))
    await task


async def handle(creader, cwriter, target, delay):
    try:
        sreader, swriter = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        cwriter.close()
        return
    try:
        await asyncio.gather(pump(creader, swriter, delay),
                             pump(sreader, cwriter, delay))
    finally:
        for w in (swriter, cwriter):
            try:
                w.close()
            except OSError:
                pass


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", type=int, required=True)
    ap.add_argument("--listen", type=int, default=0)
    ap.add_argument("--delay-ms", type=float, default=12.5,
                    help="one-way delay in each direction (default 12.5)")
    ap.add_argument("--port-file")
    a = ap.parse_args()
    delay = a.delay_ms / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, a.target, delay), "127.0.0.1", a.listen)
    port = server.sockets[0].getsockname()[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as fh:
            fh.write("%d\n" % port)
        os.rename(a.port_file + ".tmp", a.port_file)
    else:
        print(port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
