#!/usr/bin/env python3
"""Memory under a burst of large events: starts `herald serve` on a fresh database, sends COUNT events of
about SIZE bytes each, all at once over COUNT connections, and samples the server's resident memory
(VmRSS) and its peak (VmHWM) from /proc while it works and after it has been idle for SETTLE seconds.

    python3 Benchmarks/Scripts/memory-burst.py --herald .build/release/herald [--count 1000] [--size 1000000]

Prints one line per phase and a summary; exits 1 if any request got something other than 200, 413 or 429.
"""
import argparse, asyncio, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time


def rss(pid):
    text = open(f"/proc/{pid}/status").read()
    pick = lambda key: int(re.search(rf"^{key}:\s+(\d+) kB", text, re.M).group(1)) * 1024
    return pick("VmRSS"), pick("VmHWM")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def event_body(index, size):
    # Many mid-sized strings: what a large `extra` looks like, and what costs a decoder the most per byte.
    chunk = "x" * 900
    extra = {f"k{i}": chunk for i in range(max(1, size // 910))}
    return json.dumps({"message": f"burst event {index}", "level": "error", "extra": extra}).encode()


async def send(port, key, body):
    """One request; its status, or 0 if it failed or took over two minutes in all."""
    writer = None

    async def exchange():
        nonlocal writer
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = (f"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        writer.write(head + body)
        # A server that answers before the body is read (429, 413) may close without reading the rest: the
        # drain then waits on a window that never opens, so it is bounded with the rest of the exchange.
        try:
            await writer.drain()
        except ConnectionError:
            pass
        status_line = await reader.readline()
        await reader.read()
        return int(status_line.split()[1]) if status_line else 0

    try:
        return await asyncio.wait_for(exchange(), 120)
    except (ConnectionError, asyncio.TimeoutError, IndexError, ValueError):
        return 0
    finally:
        if writer is not None:
            writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--herald", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--settle", type=float, default=10)
    parser.add_argument("--extra-config", default="")
    parser.add_argument("--bursts", type=int, default=1, help="bursts, each followed by SETTLE seconds idle")
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="herald-burst-")
    port = free_port()
    os.makedirs(f"{directory}/rules")
    with open(f"{directory}/herald.yaml", "w") as config:
        config.write(f"""projects:
  - {{id: 1, slug: payments, keys: [pk-1]}}
storage:
  sqlite: {directory}/herald.sqlite
server:
  port: {port}
  max_body_bytes: {max(args.size * 2, 1 << 20)}
{args.extra_config}
""")
    server = subprocess.Popen([args.herald, "serve", "--config", f"{directory}/herald.yaml", "--rules", f"{directory}/rules",
                               "--log-level", "debug"],
                              stdout=subprocess.DEVNULL, stderr=open(f"{directory}/server.log", "w"))
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        idle, _ = rss(server.pid)
        bodies = [event_body(i, args.size) for i in range(args.count)]
        print(f"idle: {idle / 2**20:.0f} MiB; {args.count} bodies of {len(bodies[0]) / 1e6:.2f} MB")
        all_counts = {}
        for burst in range(args.bursts):
            peak = [0]

            async def sample():
                while True:
                    peak[0] = max(peak[0], rss(server.pid)[0])
                    await asyncio.sleep(0.05)

            sampler = asyncio.create_task(sample())
            started = time.monotonic()
            statuses = await asyncio.gather(*(send(port, "pk-1", body) for body in bodies))
            elapsed = time.monotonic() - started
            sampler.cancel()
            counts = {code: statuses.count(code) for code in sorted(set(statuses))}
            for code, n in counts.items():
                all_counts[code] = all_counts.get(code, 0) + n
            _, high = rss(server.pid)
            print(f"burst {burst + 1}: {elapsed:.1f} s; answers {counts}; peak resident {peak[0] / 2**20:.0f} MiB "
                  f"(high-water mark so far {high / 2**20:.0f} MiB)")
            time.sleep(args.settle)
            after, _ = rss(server.pid)
            rollup = open(f"/proc/{server.pid}/smaps_rollup").read()
            kinds = {key: int(value) // 1024 for key, value in re.findall(r"^(Rss\w*|Anonymous):\s+(\d+) kB", rollup, re.M)}
            print(f"  after {args.settle:.0f} s idle: {after / 2**20:.0f} MiB "
                  f"({', '.join(f'{k} {v} MiB' for k, v in kinds.items())})")
        counts = all_counts
        for line in open(f"{directory}/server.log"):
            if "returned freed memory" in line:
                print("  " + line.strip()[:200])
        ok = set(counts) <= {200, 413, 429}
        if server.poll() is not None:
            print("the server exited:", open(f"{directory}/server.log").read()[-2000:])
            ok = False
        return 0 if ok else 1
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(directory, ignore_errors=True)


sys.exit(asyncio.run(main()))
