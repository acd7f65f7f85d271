#!/usr/bin/env python3
"""chaos.py: the bad day of a running stack (nginx + digitd pools), measured; run by
bench/chaos.sh, which knows where scripts/run.sh keeps its files.

Three attacks, each against the stack as it runs, each printed as a row of one table:
  storm  SIGKILL to a random child of the pools every --kill-every s for --storm-seconds,
         under digitd-bench load through nginx: requests failed, kills, requests/s against a
         run without kills (--baseline-seconds, 0: none), and the longest time any pool had
         no ready child (from the pool logs: child-ready / child-exit records).
  idle   --idle FastCGI connections to a pool's socket that send BEGIN_REQUEST and stall
         (reopened as the pool closes them), with a health probe through nginx every 0.25 s.
  slow   --slow clients trickling a declared 2 MB body (10 bytes every 4 s) and --stalled
         clients sending 1.9 MB of it then stalling, spread over 127.0.0.x source addresses
         (as many hosts would be: one address alone is held to nginx's limit_conn), while a
         healthy client posts a digit from 127.0.0.1 every 50 ms: its failures and latency,
         and nginx's resident memory before, at the peak and after.
--json prints the figures as JSON instead of the table (the tests read that).
"""
import argparse
import asyncio
import datetime
import glob
import http.client
import json
import multiprocessing
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import server_fcgi as F  # noqa: E402  (the tests' FastCGI client: one copy of it)


def read_pid(path):
    with open(path) as f:
        return int(f.read().split()[0])


def children(pid):
    out = []
    for t in glob.glob("/proc/%d/task/*/children" % pid):
        try:
            with open(t) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def rss_kb(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                total += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        except (OSError, AttributeError):
            pass
    return total


def nginx_rss_kb(pid_file):
    m = read_pid(pid_file)
    return rss_kb([m] + children(m))


def bench(a, seconds):
    cmd = [a.bench, a.url + "/api/predict", "--duration", str(seconds), "--connections",
           str(a.connections), "--count", "200", "--json", "--no-progress", "--no-at-rest"]
    if a.mnist:
        cmd += ["--mnist", a.mnist]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def stamp(line):
    t = datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def longest_gap(log, t0, t1):
    """Longest time in [t0, t1] with no ready child in the pool writing log (seconds)."""
    ready, empty_since, gap = set(), None, 0.0
    with open(log, errors="replace") as f:
        for line in f:
            m = re.search(r" (child-ready|child-exit) slot=\d+ child=(\d+)", line)
            if not m:
                continue
            t = stamp(line)
            if m.group(1) == "child-ready":
                ready.add(m.group(2))
            else:
                ready.discard(m.group(2))
            if not ready and empty_since is None:
                empty_since = t
            elif ready and empty_since is not None:
                if t >= t0:
                    gap = max(gap, min(t, t1) - max(empty_since, t0))
                empty_since = None
    if empty_since is not None:
        gap = max(gap, t1 - max(empty_since, t0))
    return max(gap, 0.0)


def storm(a):
    r = {"attack": "storm", "seconds": a.storm_seconds, "kill_every_s": a.kill_every}
    if a.baseline_seconds > 0:
        base = json.loads(bench(a, a.baseline_seconds).communicate()[0])
        r["baseline_rps"] = base["requests_per_s"]
        r["baseline_failed"] = base["failed"]
    masters = [read_pid(p) for p in a.pid_file]
    t0 = time.time()
    load = bench(a, a.storm_seconds)
    kills = 0
    while load.poll() is None and time.time() < t0 + a.storm_seconds:
        kids = [c for m in masters for c in children(m)]
        if kids:
            try:
                os.kill(random.choice(kids), signal.SIGKILL)
                kills += 1
            except ProcessLookupError:
                pass
        time.sleep(a.kill_every)
    j = json.loads(load.communicate()[0])
    t1 = time.time()
    r.update(kills=kills, requests=j["requests"], failed=j["failed"], rps=j["requests_per_s"],
             p99_ms=j["latency_ms"]["p99"], wrong=j["errors"]["wrong"])
    r["max_gap_ms"] = [round(longest_gap(log, t0, t1) * 1000) for log in a.log]
    return r


def health_probe(url, timeout=5):
    host, port = url.split("//")[1].split("/")[0].rsplit(":", 1)
    t = time.time()
    try:
        c = http.client.HTTPConnection(host, int(port), timeout=timeout)
        c.request("GET", "/api/health")
        ok = c.getresponse().status == 200
        c.close()
    except OSError:
        ok = False
    return ok, time.time() - t


def idle(a):
    begin = F.record(F.BEGIN_REQUEST, 1, struct.pack(">HB5x", F.RESPONDER, 0))

    def stalled():
        c = F.Conn(a.socket, timeout=2)
        c.s.sendall(begin)
        c.s.setblocking(False)
        return c
    conns = [stalled() for _ in range(a.idle)]
    probes, failed, worst, closed = 0, 0, 0.0, 0
    end = time.time() + a.idle_seconds
    while time.time() < end:
        for i, c in enumerate(conns):
            try:
                if c.s.recv(1) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                continue
            except OSError:
                pass
            closed += 1
            c.close()
            conns[i] = stalled()
        ok, dt = health_probe(a.url)
        probes += 1
        failed += not ok
        worst = max(worst, dt)
        time.sleep(0.25)
    for c in conns:
        c.close()
    return {"attack": "idle", "connections": a.idle, "seconds": a.idle_seconds, "probes": probes,
            "failed": failed, "worst_ms": round(worst * 1000), "closed_by_pool": closed}


async def trickler(host, port, src, stop, declared, stall_after, held):
    try:
        r, w = await asyncio.open_connection(host, port, local_addr=(src, 0))
    except OSError:
        return
    held[0] += 1
    w.write(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
            b"Content-Length: %d\r\n\r\n" % declared)
    try:
        if stall_after:  # a stalled upload: most of the body at once, then nothing
            w.write(b"\0" * stall_after)
            await w.drain()
            await stop.wait()
        else:
            while not stop.is_set():
                w.write(b"\0" * 10)
                await w.drain()
                try:
                    await asyncio.wait_for(stop.wait(), 4)
                except asyncio.TimeoutError:
                    pass
    except OSError:
        pass
    w.close()


def healthy(a, stop, queue):
    """A client of its own process (not sharing the attackers' interpreter): (ok, seconds)
    of each request, in order, put on queue once stop is set."""
    host, port = a.url.split("//")[1].split("/")[0].rsplit(":", 1)
    png = open(a.png, "rb").read()
    out = []
    while not stop.is_set():
        t = time.time()
        try:
            c = http.client.HTTPConnection(host, int(port), timeout=5)
            c.request("POST", "/api/predict", png, {"Content-Type": "image/png"})
            ok = c.getresponse().status == 200
            c.close()
        except OSError:
            ok = False
        out.append((ok, time.time() - t))
        time.sleep(0.05)
    queue.put(out)


def slow(a):
    host, port = a.url.split("//")[1].split("/")[0].rsplit(":", 1)
    port = int(port)
    before = nginx_rss_kb(a.nginx_pid)
    stop_h, queue = multiprocessing.Event(), multiprocessing.Queue()
    th = multiprocessing.Process(target=healthy, args=(a, stop_h, queue))
    th.start()
    peak = [before]

    async def run():
        stop = asyncio.Event()
        held = [0]
        n = a.slow + a.stalled
        tasks = [asyncio.ensure_future(trickler(
            host, port, "127.0.0.%d" % (2 + i // 12 % 250), stop, 2000000,
            1900000 if i >= a.slow else 0, held)) for i in range(n)]
        end = time.time() + a.slow_seconds
        while time.time() < end:
            peak[0] = max(peak[0], nginx_rss_kb(a.nginx_pid))
            await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks)
        return held[0]
    held = asyncio.run(run())
    stop_h.set()
    results = queue.get()
    th.join()
    time.sleep(2)
    after = nginx_rss_kb(a.nginx_pid)
    lat = sorted(dt for _, dt in results)
    p = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1) if lat else None
    return {"attack": "slow", "slow": a.slow, "stalled": a.stalled, "seconds": a.slow_seconds,
            "connected": held, "healthy": len(results),
            "healthy_failed": sum(not ok for ok, _ in results), "p50_ms": p(0.5),
            "p99_ms": p(0.99), "max_ms": p(1.0), "nginx_rss_mb": [round(before / 1024),
                                                               round(peak[0] / 1024),
                                                               round(after / 1024)]}


def table(rows):
    print("| attack | load | failed | figures |")
    print("|---|---|---|---|")
    for r in rows:
        if r["attack"] == "storm":
            rate = "%.0f req/s" % r["rps"]
            if "baseline_rps" in r:
                rate += " (%.0f without kills: %.0f %%)" % (r["baseline_rps"],
                                                           100 * r["rps"] / r["baseline_rps"])
            print("| kill storm | SIGKILL to a random child every %g s for %d s, %d pool(s) "
                  "| %d of %d | %d kills, %s, p99 %.1f ms, longest time without a ready "
                  "child %s ms |" % (r["kill_every_s"], r["seconds"], len(r["max_gap_ms"]),
                                    r["failed"], r["requests"], r["kills"], rate, r["p99_ms"],
                                    "/".join(map(str, r["max_gap_ms"]))))
        elif r["attack"] == "idle":
            print("| idle FastCGI | %d connections sending BEGIN_REQUEST only, %d s | %d of %d "
                  "health probes | slowest probe %d ms, %d closed by the pool |"
                  % (r["connections"], r["seconds"], r["failed"], r["probes"], r["worst_ms"],
                     r["closed_by_pool"]))
        else:
            print("| slow body | %d trickling + %d stalled 2 MB uploads, %d s (%d connected) "
                  "| %d of %d healthy | healthy p50 %s ms, p99 %s ms, max %s ms; nginx RSS "
                  "%d -> %d -> %d MB (before, peak, after) |"
                  % (r["slow"], r["stalled"], r["seconds"], r["connected"], r["healthy_failed"],
                     r["healthy"], r["p50_ms"], r["p99_ms"], r["max_ms"], *r["nginx_rss_mb"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="nginx, e.g. http://127.0.0.1:8080")
    ap.add_argument("--pid-file", action="append", required=True, help="a pool's pid file")
    ap.add_argument("--log", action="append", default=[], help="a pool's log (for gaps)")
    ap.add_argument("--socket", help="a pool's unix socket (idle attack)")
    ap.add_argument("--nginx-pid", help="nginx's pid file (slow attack)")
    ap.add_argument("--bench", help="digitd-bench (storm)")
    ap.add_argument("--mnist", default=os.environ.get("MNIST_DIR"))
    ap.add_argument("--png", help="a digit PNG for the healthy client (slow attack)")
    ap.add_argument("--only", default="storm,idle,slow")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--storm-seconds", type=int, default=30)
    ap.add_argument("--baseline-seconds", type=int, default=10)
    ap.add_argument("--kill-every", type=float, default=0.1)
    ap.add_argument("--idle", type=int, default=64)
    ap.add_argument("--idle-seconds", type=int, default=10)
    ap.add_argument("--slow", type=int, default=300)
    ap.add_argument("--stalled", type=int, default=100)
    ap.add_argument("--slow-seconds", type=int, default=15)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    rows = []
    for what in a.only.split(","):
        rows.append({"storm": storm, "idle": idle, "slow": slow}[what](a))
    if a.json:
        print(json.dumps(rows))
    else:
        table(rows)


if __name__ == "__main__":
    main()
