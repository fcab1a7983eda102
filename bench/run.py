#!/usr/bin/env python3
"""Side-by-side benchmark of imgd against its peers (method: ../shared/docs/benchmarks.md).

    python3 bench/run.py [--seconds 12] [--only A,B,C,D] [--d-sizes 10000,100000,1000000]

Builds a dataset from Debian's mate-backgrounds package (nothing downloaded from elsewhere),
installs the peers into a scratch directory (/var/tmp/imgd-bench: thumbor from PyPI, ipx from
npm, nginx, wrk and nasm from Debian), builds imgd and its in-process pipeline bench with the
`simd` feature, and runs in one go:

  A  cold pipeline, fit W×512 (W 400–518, all distinct), JPEG q80 / PNG default / WebP q75,
     concurrency 2
  B  one 5640×3172 JPEG → fit W×500 (W 480–520), conc. 2
  C  one cached variant at concurrency 32, imgd vs nginx serving the same bytes
  D  invalidation at 10⁴–10⁶ variants (`cargo bench -p imgd-cache --bench invalidation`)

Servers are interleaved (imgd, thumbor, ipx, imgd, thumbor, ipx) with wrk rotating URLs. The
table gives req/s, p50/p95 (p99 for C), mean output bytes, PSNR against a full-resolution
Lanczos reference (bench/quality.py), peak RSS, and then the ratios: imgd/peer, imgd/best
peer, and imgd's server throughput over its own pipeline run in-process with 2 threads
(imgd-pipeline-bench, no HTTP). Only loopback is used; every load run is bounded in time.
"""

import argparse
import glob
import json
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
PORTS = {"nginx": 18100, "imgd": 18101, "imgd-cache": 18102, "thumbor": 18103, "ipx": 18104}
PEERS = ["thumbor", "ipx"]
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


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
    """VmHWM of the process and its children (ipx runs node under a wrapper)."""
    best = float("nan")
    for p in [pid] + children(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        v = int(line.split()[1]) / 1024
                        best = v if best != best else max(best, v)
        except OSError:
            pass
    return best


def children(pid):
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    except OSError:
        return []
    pids = [int(p) for p in out]
    return pids + [c for p in pids for c in children(p)]


def install():
    os.makedirs(WORK, exist_ok=True)
    need = [t for t in ["nginx", "wrk", "nasm"] if not shutil.which(t)]
    if need:
        sh("apt-get update -q && apt-get install -y -q nginx-light wrk nasm || apt-get install -y -q nginx wrk nasm")
    venv = os.path.join(WORK, "thumbor")
    if not os.path.exists(os.path.join(venv, "bin", "thumbor")):
        sh([sys.executable, "-m", "venv", venv])
        sh([os.path.join(venv, "bin", "pip"), "install", "-q", "thumbor==7.8.0"])
    if subprocess.run([os.path.join(venv, "bin", "python"), "-c", "import numpy"], capture_output=True).returncode:
        sh([os.path.join(venv, "bin", "pip"), "install", "-q", "numpy"])
    ipx = os.path.join(WORK, "ipx")
    if not os.path.exists(os.path.join(ipx, "node_modules", ".bin", "ipx")):
        os.makedirs(ipx, exist_ok=True)
        sh(["npm", "install", "--no-audit", "--no-fund", "ipx@3"], cwd=ipx)
    # The fast JPEG path (nasm SIMD libjpeg-turbo), as the README says to build for production.
    sh(["cargo", "build", "--release", "-p", "imgd", "-p", "imgd-pipeline-bench",
        "--features", "imgd/simd,imgd-pipeline-bench/simd"], cwd=ROOT)
    return os.path.join(TARGET, "release", "imgd")


def imgd_config(path, port, cache_dir=None, aliases=""):
    with open(path, "w") as f:
        f.write(f"""[server]
listen = "127.0.0.1:{port}"
default_token = "b"
access_log = false
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
                "  io.write(string.format('RESULT %f %f %f %f %d %d\\n', summary.requests / (summary.duration / 1e6),"
                " latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,"
                " summary.errors.status,"
                " summary.errors.connect + summary.errors.read + summary.errors.timeout))\nend\n")
    out = subprocess.run(["wrk", f"-t{min(2, conns)}", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", script,
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"RESULT (\S+) (\S+) (\S+) (\S+) (\d+) (\d+)", out)
    return {"rps": float(m[1]), "p50": float(m[2]), "p95": float(m[3]), "p99": float(m[4]),
            "errors": int(m[5]) + int(m[6])}


def paths_for(server, names, widths, q, h):
    origin = f"127.0.0.1:{PORTS['nginx']}"
    out = []
    for i in range(len(names) * 8):
        name, w = names[i % len(names)], widths[i % len(widths)]
        # q None: the format's default (PNG: the method asks for it, and a quality would make
        # ipx palette-quantise, a lossy PNG unlike imgd's and thumbor's).
        if server == "imgd":
            out.append(f"/{origin}/{name}?w={w}&h={h}&func=bound" + (f"&q={q}" if q else ""))
        elif server == "thumbor":
            out.append(f"/unsafe/fit-in/{w}x{h}/" + (f"filters:quality({q})/" if q else "") + name)
        else:
            out.append(f"/s_{w}x{h},fit_inside" + (f",q_{q}" if q else "") + f"/{name}")
    return out


def sample_outputs(label, server, names, widths, q, h, manifest):
    """Fetches 12 outputs of the workload's URL list; records them for PSNR; mean bytes."""
    sizes = []
    outdir = os.path.join(WORK, "quality", label.replace(" ", "-"), server)
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    paths = paths_for(server, names, widths, q, h)
    for i, path in enumerate(paths[:12]):
        with urllib.request.urlopen(f"http://127.0.0.1:{PORTS[server]}{path}", timeout=120) as r:
            body = r.read()
        sizes.append(len(body))
        out = os.path.join(outdir, f"{i}-{names[i % len(names)]}")
        with open(out, "wb") as f:
            f.write(body)
        manifest.append([label, server, os.path.join(DATA, names[i % len(names)]), out])
    return statistics.mean(sizes)


def in_process(names, widths, q, h, seconds):
    bench = os.path.join(TARGET, "release", "imgd-pipeline-bench")
    query = f"w={{W}}&h={h}&func=bound" + (f"&q={q}" if q else "")
    out = subprocess.run([bench, "--seconds", str(seconds), "--threads", "2", "--widths",
                          f"{widths[0]}-{widths[-1]}", "--query", query]
                         + [os.path.join(DATA, n) for n in names], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["images_per_s"]


def start_servers(imgd):
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
    env = dict(os.environ, PORT=str(PORTS["ipx"]), HOST="127.0.0.1", NODE_ENV="production")
    procs["ipx"] = start([os.path.join(WORK, "ipx/node_modules/.bin/ipx"), "serve", "--dir", DATA],
                         PORTS["ipx"], env=env, cwd=os.path.join(WORK, "ipx"))
    return procs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=12, help="per server and workload, in two halves")
    ap.add_argument("--only", default="A,B,C,D")
    ap.add_argument("--d-sizes", default="10000,100000,1000000")
    args = ap.parse_args()
    only = set(args.only.split(","))
    imgd = install()
    build_dataset(imgd)
    jpegs = sorted(n for n in os.listdir(DATA) if n.endswith(".jpg") and n not in ("large.jpg", "variant.jpg"))
    pngs = sorted(n for n in os.listdir(DATA) if n.endswith(".png"))
    webps = sorted(n for n in os.listdir(DATA) if n.endswith(".webp"))
    workloads = []
    if "A" in only:
        workloads += [("A jpeg", jpegs, list(range(400, 519)), 80, 512),
                      ("A png", pngs, list(range(400, 519)), None, 512),
                      ("A webp", webps, list(range(400, 519)), 75, 512)]
    if "B" in only:
        workloads += [("B large", ["large.jpg"], list(range(480, 521)), 80, 500)]

    procs = start_servers(imgd)
    rows, manifest, engine = [], [], {}
    try:
        for label, names, widths, q, h in workloads:
            result = {}
            for server in ["imgd"] + PEERS + ["imgd"] + PEERS:
                r = wrk(paths_for(server, names, widths, q, h), PORTS[server], args.seconds // 2, 2)
                prev = result.get(server)
                result[server] = r if prev is None else {k: (prev[k] + r[k]) / 2 for k in r}
            for server in ["imgd"] + PEERS:
                r = result[server]
                r["bytes"] = sample_outputs(label, server, names, widths, q, h, manifest)
                r["rss"] = peak_rss_mb(procs[server].pid)
                rows.append((label, server, r))
            engine[label] = in_process(names, widths, q, h, args.seconds // 2)
        if "C" in only:
            ccfg = os.path.join(WORK, "imgd-cache.toml")
            shutil.rmtree(os.path.join(WORK, "cache"), ignore_errors=True)
            imgd_config(ccfg, PORTS["imgd-cache"], cache_dir=os.path.join(WORK, "cache"))
            procs["imgd-cache"] = start([imgd, "serve", "--config", ccfg], PORTS["imgd-cache"])
            variant = f"/127.0.0.1:{PORTS['nginx']}/{jpegs[0]}?w=512&h=512&func=bound&q=80"
            with urllib.request.urlopen(f"http://127.0.0.1:{PORTS['imgd-cache']}{variant}") as r:
                body = r.read()
            with open(os.path.join(DATA, "variant.jpg"), "wb") as f:
                f.write(body)
            result = {}
            for server, path in [("imgd-cache", variant), ("nginx", "/variant.jpg")] * 2:
                r = wrk([path], PORTS[server], args.seconds // 2, 32)
                prev = result.get(server)
                result[server] = r if prev is None else {k: (prev[k] + r[k]) / 2 for k in r}
            for server, r in result.items():
                r["bytes"], r["rss"] = len(body), peak_rss_mb(procs[server].pid)
                rows.append(("C hits", server, r))
    finally:
        for p in procs.values():
            stop(p)

    psnr = {}
    if manifest:
        path = os.path.join(WORK, "quality", "manifest.json")
        with open(path, "w") as f:
            json.dump(manifest, f)
        out = subprocess.run([os.path.join(WORK, "thumbor/bin/python"), os.path.join(ROOT, "bench/quality.py"), path],
                             capture_output=True, text=True, check=True).stdout
        psnr = json.loads(out)

    print("\n| workload | server | req/s | p50 ms | p95 ms | p99 ms | errors | mean bytes | PSNR dB | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, server, r in rows:
        q = psnr.get(f"{label}|{server}")
        print(f"| {label} | {server} | {r['rps']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} "
              f"| {r['errors']:.0f} | {r['bytes']:.0f} | {'%.2f' % q if q else '-'} | {r['rss']:.0f} |")
    print("\nratios (req/s):")
    by = {}
    for label, server, r in rows:
        by.setdefault(label, {})[server] = r
    for label, servers in by.items():
        mine = (servers.get("imgd") or servers.get("imgd-cache"))["rps"]
        peers = {k: v["rps"] for k, v in servers.items() if not k.startswith("imgd")}
        parts = [f"imgd/{p} = {mine / v:.2f}" for p, v in peers.items()]
        best = max(peers, key=peers.get)
        parts.append(f"imgd/best ({best}) = {mine / peers[best]:.2f}")
        if label in engine:
            parts.append(f"server/in-process = {mine / engine[label]:.2f} ({engine[label]:.1f} img/s in-process)")
        print(f"  {label}: " + ", ".join(parts))
    if "D" in only:
        print("\nworkload D (invalidation):")
        sys.stdout.flush()
        subprocess.run(["cargo", "bench", "-q", "-p", "imgd-cache", "--bench", "invalidation", "--",
                        args.d_sizes], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
