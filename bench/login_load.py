#!/usr/bin/python3
"""Logs in N users at once against a user service and, meanwhile, probes /healthz.

Usage: login_load.py PORT USERS PASSWORD EMAIL_PATTERN
EMAIL_PATTERN holds {i}, e.g. bench-{i}@example.com. Prints key value lines.
Only the standard library: asyncio streams, HTTP/1.1 with Content-Length.
"""
import asyncio
import json
import sys
import time


async def request(port, method, path, body=b""):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    writer.write(head + body)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    payload = await reader.readexactly(length) if length else b""
    writer.close()
    return int(status_line.split()[1]), payload


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


async def main():
    port, users, password, pattern = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]

    # One login at a time first: the cost of one login with an idle service.
    solo = []
    for i in range(10):
        body = json.dumps({"email": pattern.format(i=i), "password": password}).encode()
        t = time.perf_counter()
        status, _ = await request(port, "POST", "/api/v1/auth/login", body)
        solo.append(time.perf_counter() - t)
        assert status == 200, status

    latencies, failures = [], 0
    probes = []
    done = asyncio.Event()

    async def login(i):
        nonlocal failures
        body = json.dumps({"email": pattern.format(i=i), "password": password}).encode()
        t = time.perf_counter()
        status, payload = await request(port, "POST", "/api/v1/auth/login", body)
        latencies.append(time.perf_counter() - t)
        if status != 200 or b"access_token" not in payload:
            failures += 1

    async def probe():
        while not done.is_set():
            t = time.perf_counter()
            status, _ = await request(port, "GET", "/healthz")
            probes.append(time.perf_counter() - t)
            await asyncio.sleep(0.02)

    prober = asyncio.create_task(probe())
    start = time.perf_counter()
    await asyncio.gather(*(login(i) for i in range(users)))
    elapsed = time.perf_counter() - start
    done.set()
    await prober

    print(f"solo_login_ms {1000 * pct(solo, 50):.1f}")
    print(f"logins {users}")
    print(f"failures {failures}")
    print(f"seconds {elapsed:.2f}")
    print(f"logins_per_second {users / elapsed:.1f}")
    print(f"login_p50_ms {1000 * pct(latencies, 50):.0f}")
    print(f"login_p99_ms {1000 * pct(latencies, 99):.0f}")
    print(f"healthz_probes {len(probes)}")
    print(f"healthz_p99_ms {1000 * pct(probes, 99):.1f}")
    print(f"healthz_max_ms {1000 * max(probes):.1f}")


asyncio.run(main())
