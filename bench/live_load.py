#!/usr/bin/python3
"""Opens many live notification streams on the gateway at once and keeps them idle, then
measures what they cost it and how fast a notification reaches them.

  live_load.py GATEWAY_PORT GATEWAY_PID REDIS_PORT TOKENS_FILE STREAMS_PER_TOKEN

TOKENS_FILE has one "user_id token" per line. Prints "key value" lines: streams_open, failures,
rss_before_kib, rss_after_kib, kib_per_stream, open_seconds, deliver_p50_ms, deliver_p99_ms,
deliver_max_ms, delivered, expected. Bounded in time: gives up after 300 s.
"""
import asyncio
import json
import resource
import socket
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Stream:
    def __init__(self, user):
        self.user = user
        self.reader = None
        self.writer = None
        self.got = asyncio.Event()
        self.arrived = 0.0


async def open_stream(port, user, token, s):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=4096)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    writer.write(f"GET /api/v1/notifications/stream HTTP/1.1\r\nHost: bench\r\n"
                 f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        writer.close()
        raise RuntimeError(head.split(b"\r\n")[0].decode())
    await reader.readuntil(b"retry: 3000\n\n")  # the stream's first event: it is registered
    s.reader, s.writer = reader, writer


async def watch(s):
    try:
        while True:
            line = await s.reader.readline()
            if not line:
                return
            if line.startswith(b"event: notification"):
                s.arrived = time.monotonic()
                s.got.set()
    except (OSError, asyncio.IncompleteReadError, ValueError):
        return


async def main():
    port, pid, redis_port, tokens_file, per = sys.argv[1:6]
    port, pid, per = int(port), int(pid), int(per)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with open(tokens_file) as f:
        users = [line.split() for line in f if line.strip()]
    streams = [Stream(u) for u, _ in users for _ in range(per)]
    tokens = {u: t for u, t in users}
    rss_before = rss_kib(pid)
    started = time.monotonic()
    sem = asyncio.Semaphore(200)  # connections being set up at once
    failures = []

    async def one(s):
        async with sem:
            try:
                await asyncio.wait_for(open_stream(port, s.user, tokens[s.user], s), 30)
            except Exception as e:  # noqa: BLE001
                failures.append(str(e))

    await asyncio.gather(*(one(s) for s in streams))
    open_seconds = time.monotonic() - started
    live = [s for s in streams if s.writer is not None]
    watchers = [asyncio.create_task(watch(s)) for s in live]
    await asyncio.sleep(2.0)  # idle: what the gateway holds for them now
    rss_after = rss_kib(pid)

    # One notification for each of 200 users, published as the notification service does; the
    # time from PUBLISH to each of that user's streams.
    targets = list({s.user for s in live})[:200]
    latencies = []
    redis_reader, redis_writer = await asyncio.open_connection("127.0.0.1", int(redis_port))

    async def publish(payload):
        parts = [b"PUBLISH", b"live:notifications", payload.encode()]
        cmd = b"*3\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        redis_writer.write(cmd)
        await redis_writer.drain()
        await redis_reader.readline()  # ":<receivers>"

    for user in targets:
        mine = [s for s in live if s.user == user]
        for s in mine:
            s.got.clear()
        item = {"id": "bench", "category": "security", "title": "t", "body": "b", "link": "",
                "created_at": "2026-12-06T00:00:00Z", "read": False}
        payload = json.dumps({"user_id": user, "notification": item})
        sent = time.monotonic()
        await publish(payload)
        try:
            await asyncio.wait_for(asyncio.gather(*(s.got.wait() for s in mine)), 5)
        except asyncio.TimeoutError:
            pass
        latencies += [(s.arrived - sent) * 1000 for s in mine if s.got.is_set()]
    expected = sum(1 for s in live if s.user in set(targets))
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else -1

    for s in live:
        s.writer.close()
    for w in watchers:
        w.cancel()
    n = max(1, len(live))
    print(f"streams_open {len(live)}")
    print(f"failures {len(failures)}")
    if failures:
        print(f"first_failure {failures[0]}")
    print(f"open_seconds {open_seconds:.1f}")
    print(f"rss_before_kib {rss_before}")
    print(f"rss_after_kib {rss_after}")
    print(f"kib_per_stream {(rss_after - rss_before) / n:.2f}")
    print(f"delivered {len(latencies)}")
    print(f"expected {expected}")
    print(f"deliver_p50_ms {pct(0.50):.2f}")
    print(f"deliver_p99_ms {pct(0.99):.2f}")
    print(f"deliver_max_ms {latencies[-1] if latencies else -1:.2f}")


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(), 300))
