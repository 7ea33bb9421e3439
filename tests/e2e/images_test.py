#!/usr/bin/python3
"""Property photos end to end: the real user, property and gateway processes on the PostgreSQL
and Redis of `make test`, driven through the gateway as clients, with the gateway's shipped
routes (the upload route spools its bodies to a file) and a worker queue of one.

Checks: an agent's photo is accepted and listed; its renditions come through the gateway with
`Cache-Control: immutable`, an ETag (304) and byte ranges (206); a 20 MB upload passes the
gateway and the service without their peak memory moving; an upload over 25 MiB is 413 before
its body; another user cannot add or delete; with the image workers busy an upload is 503 with
Retry-After, never 500; a deleted photo's URL answers 404.
Run by `make test` (ctest label e2e): images_test.py path/to/restinu
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from purchase_test import Client, check, free_port, wait_for, wait_ready  # noqa: E402
import purchase_test  # noqa: E402
from stack import People, Stack  # noqa: E402


def photo(work, name, width, height, noise=False):
    """A JPEG made by libvips' command line: black, or noise (costly to encode and decode)."""
    out = os.path.join(work, name)
    if noise:
        n = os.path.join(work, name + ".n.v")
        c = os.path.join(work, name + ".c.v")
        subprocess.run(["vips", "gaussnoise", n, str(width), str(height), "--mean", "128",
                        "--sigma", "40"], check=True)
        subprocess.run(["vips", "cast", n, c, "uchar"], check=True)
        subprocess.run(["vips", "bandjoin", f"{c} {c} {c}", out + "[Q=90]"], check=True)
    else:
        subprocess.run(["vips", "black", out + "[Q=90]", str(width), str(height), "--bands", "3"],
                       check=True)
    with open(out, "rb") as f:
        return f.read()


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def head_only(port, path, length, token):
    """Sends a request head announcing `length` body bytes and none of them; the answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall((f"POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n"
               f"Content-Type: image/jpeg\r\nContent-Length: {length}\r\n\r\n").encode())
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return data.decode(errors="replace")


def main():
    binary = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    work = tempfile.mkdtemp(prefix="restinu-images-e2e.")
    store = os.path.join(work, "images")
    # Under AddressSanitizer freed memory waits in a quarantine (256 MB) before it is used again,
    # so every byte that passed through would count in the peak: no quarantine here, so that the
    # peak shows what is held, as in a release build.
    extra = {}
    if os.environ.get("ASAN_OPTIONS") is not None:
        extra["ASAN_OPTIONS"] = (os.environ["ASAN_OPTIONS"] +
                                 ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0")
    with Stack(binary, work, ("user", "property"), lambda: free_port(root), extra) as stack:
        procs, ports = stack.procs, stack.ports
        stack.migrate()
        stack.start("user")
        # One photo worker and a queue of one: a second upload at once finds it full.
        stack.start("property", {"RESTINU_PROPERTY__IMAGES__DIR": store,
                                 "RESTINU_PROPERTY__IMAGES__THREADS": "1",
                                 "RESTINU_PROPERTY__IMAGES__QUEUE_LIMIT": "1"})
        # The shipped routes (the upload route spools); limits raised out of the test's way.
        stack.start_gateway(("default", "auth", "upload"))
        for n in ("user", "property", "gateway"):
            check(f"{n} becomes ready", wait_ready(ports[n]))
        gw = Client(ports["gateway"])

        people = People(gw, binary, stack.env, "an images e2e passphrase")
        admin = people.admin()
        agent = people.register("agent")
        other = people.register("other")
        for who in (agent, other):
            st, _, _ = gw.req("PATCH", f"/api/v1/admin/users/{who['id']}", {"role": "agent"},
                              token=admin["token"])
            check("the admin makes an agent", st == 200)
            who["token"] = people.login(who["email"])

        body = {
            "title": "3 BHK with a garden", "description": "Quiet street.",
            "property_type": "villa", "status": "active",
            "price": {"amount": 2_500_000_000, "currency": "INR"},
            "bedrooms": 3, "bathrooms": 3, "area_sqft": 2400,
            "address": {"line": "9 Hill Road", "locality": "Bandra", "city": "Mumbai",
                        "state": "Maharashtra", "postal_code": "400050", "country": "IN"},
            "location": {"lat": 19.0596, "lng": 72.8295},
        }
        listing = {}

        def create():
            st, _, b = gw.req("POST", "/api/v1/properties", body, token=agent["token"])
            if st == 201:
                listing.update(b)
            return st == 201
        check("the agent creates a listing", wait_for(create, 30, 0.2))
        images_path = f"/api/v1/properties/{listing['id']}/images"

        def upload(data, token, path=images_path):
            return gw.req("POST", path, data, token=token, headers={"Content-Type": "image/jpeg"})

        # --- a photo in, its renditions out -------------------------------------------------------
        jpeg = photo(work, "house.jpg", 2000, 1500)
        st, hdrs, img = upload(jpeg, agent["token"])
        check("the owner's photo is accepted through the gateway", st == 201, (st, img))
        renditions = {r["url"]: r for r in img.get("renditions", [])}
        check("it has four renditions, 320 and 1280 px wide",
              sorted(r["width"] for r in renditions.values()) == [320, 320, 1280, 1280], img)
        st, _, got = gw.req("GET", f"/api/v1/properties/{listing['id']}")
        check("the listing lists it", st == 200 and [i["id"] for i in got["images"]] == [img["id"]])
        url = next(u for u in renditions if u.endswith("-1280.webp"))
        st, h, data = gw.req("GET", url, raw=True)
        check("a rendition comes through the gateway", st == 200 and
              h.get("content-type") == "image/webp" and len(data) == renditions[url]["bytes"], (st, h))
        check("immutable, with an ETag", h.get("cache-control") == "public, max-age=31536000, immutable"
              and h.get("etag", "").startswith('"'), h)
        st, _, _ = gw.req("GET", url, headers={"If-None-Match": h["etag"]}, raw=True)
        check("If-None-Match is 304", st == 304, st)
        st, h2, part = gw.req("GET", url, headers={"Range": "bytes=100-199"}, raw=True)
        check("a range is 206 with its bytes", st == 206 and part == data[100:200] and
              h2.get("content-range") == f"bytes 100-199/{len(data)}", (st, h2))

        # --- big uploads: streamed, never held -----------------------------------------------------
        big = os.urandom(20 * 1024 * 1024)
        gw_before = peak_rss_kb(procs["gateway"].pid)
        prop_before = peak_rss_kb(procs["property"].pid)
        st, _, b = upload(big, agent["token"])
        check("20 MB of noise is refused as undecodable", st == 422 and
              b.get("type", "").endswith("image-undecodable"), (st, b))
        gw_growth = peak_rss_kb(procs["gateway"].pid) - gw_before
        prop_growth = peak_rss_kb(procs["property"].pid) - prop_before
        check(f"the gateway's peak memory grew {gw_growth} KiB (< 8 MiB) for 20 MB",
              gw_growth < 8 * 1024)
        check(f"the property service's grew {prop_growth} KiB (< 8 MiB)", prop_growth < 8 * 1024)
        answer = head_only(ports["gateway"], images_path, 26 * 1024 * 1024 + 1, agent["token"])
        check("over 25 MiB is 413 from its head alone", answer.startswith("HTTP/1.1 413") and
              "payload-too-large" in answer, answer[:200])

        # --- who may -------------------------------------------------------------------------------
        st, _, _ = upload(jpeg, other["token"])
        check("another agent cannot add a photo", st == 403, st)
        st, _, _ = upload(jpeg, None)
        check("nobody signed in cannot add a photo", st == 401, st)
        st, _, _ = gw.req("DELETE", f"{images_path}/{img['id']}", token=other["token"])
        check("another agent cannot delete it", st == 403, st)

        # --- a full worker queue is 503, never 500 ---------------------------------------------------
        heavy = [photo(work, f"heavy{i}.jpg", 3000 + i, 2000, noise=True) for i in range(6)]
        results = [None] * len(heavy)

        def send(i):
            c = Client(ports["gateway"])
            results[i] = c.req("POST", images_path, heavy[i], token=agent["token"],
                               headers={"Content-Type": "image/jpeg"})
        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(heavy))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r[0] for r in results)
        busy = [r for r in results if r[0] == 503]
        check("with the workers busy some uploads are 503, the others 201 or 409 (full listing)",
              busy and all(s in (201, 409, 503) for s in statuses), statuses)
        check("a 503 says when to retry", all(r[1].get("retry-after") for r in busy), busy[:1])

        # --- removed: gone -------------------------------------------------------------------------
        st, _, _ = gw.req("DELETE", f"{images_path}/{img['id']}", token=agent["token"])
        check("the owner deletes the photo", st == 204, st)
        st, _, _ = gw.req("GET", url, raw=True)
        check("its URL answers 404", st == 404, st)
    if purchase_test.failures:
        print(f"{purchase_test.failures} check(s) failed; logs in {work}")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
