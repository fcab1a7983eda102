#!/usr/bin/env python3
"""Side-by-side benchmark of imgd against its peers (method: ../shared/docs/benchmarks.md).

    python3 bench/run.py [--seconds 12] [--only A,B,C]

Builds a dataset from Debian's mate-backgrounds package (nothing downloaded from elsewhere),
installs the peers into a scratch directory (/var/tmp/imgd-bench: thumbor from PyPI, nginx and
wrk from Debian), runs the workloads against imgd and the peers in one run, interleaved, and
prints a table with the ratios imgd/peer last. Only loopback is used; every load run is bounded
in time. Workload D (invalidation) is `cargo bench -p imgd-cache --bench invalidation`.

Not yet included: ipx (npm) as a peer; see BENCHMARKS.md.
"""

import argparse
import glob
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get("IMGD_BENCH_DIR", "/var/tmp/imgd-bench")
DATA = os.path.join(WORK, "data")
PORTS = {"nginx": 18100, "imgd": 18101, "imgd-cache": 18102, "thumbor": 18103}


def sh(cmd, **kw):
    print("+", cmd if isinstance(cmd, str) else " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, **kw)


def wait_port(port, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def install():
    os.makedirs(WORK, exist_ok=True)
    if not shutil.which("nginx") or not shutil.which("wrk"):
        sh("apt-get update -q && apt-get install -y -q nginx-light wrk || apt-get install -y -q nginx wrk")
    venv = os.path.join(WORK, "thumbor")
    if not os.path.exists(os.path.join(venv, "bin", "thumbor")):
        sh([sys.executable, "-m", "venv", venv])
        sh([os.path.join(venv, "bin", "pip"), "install", "-q", "thumbor==7.8.0"])
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    sh(["cargo", "build", "--release", "-p", "imgd"], cwd=ROOT)
    return os.path.join(target, "release", "imgd")


def imgd_config(path, port, cache_dir=None, aliases=""):
    with open(path, "w") as f:
        f.write(f"""[server]
listen = "127.0.0.1:{port}"
default_token = "b"
[origin]
allow_loopback = true
[limits]
max_source_pixels = 200000000
[cache]
enabled = {"true" if cache_dir else "false"}
dir = "{cache_dir or WORK + '/unused-cache'}"
[tokens.b]
url_version = "none"
default_scheme = "http"
{aliases}
""")


def start(cmd, port, env=None, cwd=None):
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    wait_port(port)
    return p


def stop(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(10)
    except Exception:
        os.killpg(p.pid, signal.SIGKILL)


def build_dataset(imgd):
    """JPEGs re-encoded 2048 px wide q90, PNG and WebP variants, and one 5640×3172 q85 JPEG."""
    if os.path.exists(os.path.join(DATA, "large.jpg")):
        return
    src = os.path.join(WORK, "mate")
    if not os.path.isdir(src):
        os.makedirs(src)
        sh("apt-get download mate-backgrounds", cwd=WORK)
        deb = glob.glob(os.path.join(WORK, "mate-backgrounds_*.deb"))[0]
        sh(["dpkg-deb", "-x", deb, src])
    base = os.path.join(src, "usr/share/backgrounds/mate")
    cfg = os.path.join(WORK, "dataset.toml")
    imgd_config(cfg, 18109, aliases=f'aliases = {{ "_m_" = "{base}" }}')
    p = start([imgd, "serve", "--config", cfg], 18109)
    os.makedirs(DATA, exist_ok=True)

    def fetch(rel, query, out):
        url = f"http://127.0.0.1:18109/_m_/{rel}?{query}"
        with urllib.request.urlopen(url, timeout=120) as r, open(os.path.join(DATA, out), "wb") as f:
            f.write(r.read())

    try:
        for path in sorted(glob.glob(os.path.join(base, "nature/*.jpg")) + glob.glob(os.path.join(base, "desktop/*.jpg"))):
            rel = os.path.relpath(path, base)
            name = os.path.splitext(os.path.basename(path))[0].lower()
            fetch(rel, "w=2048&q=90", f"{name}.jpg")
        for path in sorted(glob.glob(os.path.join(base, "abstract/*.png"))):
            rel = os.path.relpath(path, base)
            name = os.path.splitext(os.path.basename(path))[0].lower()
            fetch(rel, "w=2048&force_format=png", f"{name}.png")
            fetch(rel, "w=2048&force_format=webp&q=90", f"{name}.webp")
        fetch("abstract/Elephants_5640x3172.jpg", "q=85", "large.jpg")
    finally:
        stop(p)


def wrk(paths, port, seconds, conns):
    script = os.path.join(WORK, "paths.lua")
    with open(script, "w") as f:
        f.write("paths = {" + ",".join(f'"{p}"' for p in paths) + "}\n")
        f.write("i = 0\nrequest = function()\n  i = i + 1\n"
                "  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n")
        f.write("done = function(summary, latency, requests)\n"
                "  io.write(string.format('RESULT %f %f %f %d %d\\n', summary.requests / (summary.duration / 1e6),"
                " latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.errors.status,"
                " summary.errors.connect + summary.errors.read + summary.errors.timeout))\nend\n")
    out = subprocess.run(["wrk", f"-t{min(2, conns)}", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", script,
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"RESULT (\S+) (\S+) (\S+) (\d+) (\d+)", out)
    rps, p50, p95, bad_status, bad_io = float(m[1]), float(m[2]), float(m[3]), int(m[4]), int(m[5])
    return {"rps": rps, "p50": p50, "p95": p95, "errors": bad_status + bad_io}


def mean_bytes(port, paths):
    sizes = []
    for path in paths[:20]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as r:
            sizes.append(len(r.read()))
    return statistics.mean(sizes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=12)
    ap.add_argument("--only", default="A,B,C")
    args = ap.parse_args()
    imgd = install()
    build_dataset(imgd)
    jpegs = sorted(n for n in os.listdir(DATA) if n.endswith(".jpg") and n != "large.jpg")
    pngs = sorted(n for n in os.listdir(DATA) if n.endswith(".png"))
    webps = sorted(n for n in os.listdir(DATA) if n.endswith(".webp"))

    nginx_conf = os.path.join(WORK, "nginx.conf")
    with open(nginx_conf, "w") as f:
        f.write(f"""daemon off; worker_processes 2; pid {WORK}/nginx.pid; error_log /dev/null;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on;
  server {{ listen 127.0.0.1:{PORTS['nginx']}; root {DATA}; }} }}
""")
    procs = {"nginx": start(["nginx", "-c", nginx_conf], PORTS["nginx"])}
    cfg = os.path.join(WORK, "imgd.toml")
    imgd_config(cfg, PORTS["imgd"])
    procs["imgd"] = start([imgd, "serve", "--config", cfg], PORTS["imgd"])
    thumbor_conf = os.path.join(WORK, "thumbor.conf")
    with open(thumbor_conf, "w") as f:
        f.write(f"""LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = '{DATA}'
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = None
ALLOW_UNSAFE_URL = True
ENGINE_THREADPOOL_SIZE = 2
QUALITY = 80
""")
    procs["thumbor"] = start([os.path.join(WORK, "thumbor/bin/thumbor"), "-p", str(PORTS["thumbor"]),
                              "-c", thumbor_conf, "-l", "error"], PORTS["thumbor"])
    origin = f"127.0.0.1:{PORTS['nginx']}"
    rows = []
    try:
        def paths_for(server, names, widths, fmt_q):
            out = []
            for i in range(len(names) * 8):
                name, w = names[i % len(names)], widths[i % len(widths)]
                if server == "imgd":
                    out.append(f"/{origin}/{name}?w={w}&h=512&func=bound&q={fmt_q}")
                else:
                    out.append(f"/unsafe/fit-in/{w}x512/filters:quality({fmt_q})/{name}")
            return out

        workloads = []
        if "A" in args.only:
            workloads += [("A jpeg", jpegs, range(400, 519), 80, 2), ("A png", pngs, range(400, 519), 80, 2),
                          ("A webp", webps, range(400, 519), 75, 2)]
        if "B" in args.only:
            workloads += [("B large", ["large.jpg"], range(480, 521), 80, 2)]
        for label, names, widths, q, conns in workloads:
            if not names:
                continue
            result = {}
            for server in ["imgd", "thumbor", "imgd", "thumbor"]:
                port = PORTS[server]
                r = wrk(paths_for(server, names, list(widths), q), port, args.seconds // 2, conns)
                prev = result.get(server)
                result[server] = r if prev is None else {k: (prev[k] + r[k]) / 2 for k in r}
            for server in ["imgd", "thumbor"]:
                r = result[server]
                r["bytes"] = mean_bytes(PORTS[server], paths_for(server, names, list(widths), q))
                r["rss"] = peak_rss_mb(procs[server].pid)
                rows.append((label, server, r))
        if "C" in args.only:
            ccfg = os.path.join(WORK, "imgd-cache.toml")
            shutil.rmtree(os.path.join(WORK, "cache"), ignore_errors=True)
            imgd_config(ccfg, PORTS["imgd-cache"], cache_dir=os.path.join(WORK, "cache"))
            procs["imgd-cache"] = start([imgd, "serve", "--config", ccfg], PORTS["imgd-cache"])
            variant = f"/{origin}/{jpegs[0]}?w=512&h=512&func=bound&q=80"
            with urllib.request.urlopen(f"http://127.0.0.1:{PORTS['imgd-cache']}{variant}") as r:
                body = r.read()
            with open(os.path.join(DATA, "variant.jpg"), "wb") as f:
                f.write(body)
            for server, path in [("imgd-cache", variant), ("nginx", "/variant.jpg")] * 2:
                r = wrk([path], PORTS[server], args.seconds // 2, 32)
                r["bytes"], r["rss"] = len(body), peak_rss_mb(procs[server].pid)
                rows.append(("C hits", server, r))
    finally:
        for p in procs.values():
            stop(p)

    print(f"\n| workload | server | req/s | p50 ms | p95 ms | errors | mean bytes | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for label, server, r in rows:
        print(f"| {label} | {server} | {r['rps']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['errors']:.0f} "
              f"| {r['bytes']:.0f} | {r['rss']:.0f} |")
    print("\nratios (imgd / peer, req/s):")
    by = {}
    for label, server, r in rows:
        by.setdefault(label, {}).setdefault(server, []).append(r["rps"])
    for label, servers in by.items():
        mine = statistics.median(servers.get("imgd") or servers.get("imgd-cache") or [0])
        for peer, v in servers.items():
            if peer.startswith("imgd"):
                continue
            print(f"  {label}: imgd/{peer} = {mine / statistics.median(v):.2f}")


if __name__ == "__main__":
    main()
