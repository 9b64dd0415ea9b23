#!/usr/bin/env python3
"""Instructions per proxied request, per thread, counted by callgrind (repeatable on a noisy machine).

Starts the same nginx upstreams as bench.py and `understudy --headless` under
`valgrind --tool=callgrind --separate-threads=yes` with collection off, switches collection on only while a
fixed number of requests go through one keep-alive connection, and prints instructions per request for each
thread. The callgrind files stay in the work folder for callgrind_annotate.

    tests/bench/profile.py --binary build/app/understudy [--requests N] [--body small|large|huge] [--chain json]
"""
import argparse
import glob
import json
import os
import re
import subprocess
import tempfile
import time

import bench


def thread_name(text, path):
    if "LedgerWriter::flush" in text:
        return "ledger thread"
    if "Exchange::" in text:
        return "proxy thread"
    return "other thread (" + os.path.basename(path) + ")"


def thread_totals(work):
    """Instructions collected per callgrind thread file (pid-N); "summary:" stays 0 in a dump made on request."""
    totals = {}
    for path in sorted(glob.glob(os.path.join(work, "callgrind.out.*-*"))):
        with open(path, errors="replace") as f:
            text = f.read()
        match = re.search(r"^totals:\s+(\d+)", text, re.M)
        totals[thread_name(text, path)] = int(match.group(1)) if match else 0
    return totals


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--body", choices=("small", "large", "huge"), default="small")
    parser.add_argument("--chain", default="json")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="understudy-profile-")
    ports = {k: bench.free_port() for k in ("json", "sse", "limited", "chat", "proxy")}
    with open(os.path.join(work, "nginx.conf"), "w") as f:
        f.write(bench.nginx_conf(work, ports))
    with open(os.path.join(work, "understudy.json"), "w") as f:
        json.dump(bench.proxy_conf(ports), f)
    fixture = json.load(open(bench.FIXTURE))["body"]
    body = {"small": {"model": "claude-bench", "max_tokens": 64, "messages": [{"role": "user", "content": "say hi"}]},
            "large": dict(fixture, stream=False),
            "huge": dict(fixture, stream=False, messages=fixture["messages"] * 150)}[args.body]
    payload = json.dumps(body, separators=(",", ":")).encode()

    nginx = subprocess.Popen(["nginx", "-c", os.path.join(work, "nginx.conf"), "-p", work], stderr=subprocess.DEVNULL)
    env = dict(os.environ, XDG_DATA_HOME=work, XDG_CONFIG_HOME=work)
    proxy = subprocess.Popen(["valgrind", "--tool=callgrind", "--separate-threads=yes", "--instr-atstart=no",
                              f"--callgrind-out-file={work}/callgrind.out.%p", os.path.abspath(args.binary), "--headless", "--config",
                              os.path.join(work, "understudy.json")],
                             stderr=open(os.path.join(work, "proxy.log"), "w"), env=env, cwd=work)
    try:
        bench.wait_port(ports["proxy"], timeout=120)
        path = f"/chains/{args.chain}/v1/messages"
        bench.post_keep_alive(ports["proxy"], path, payload, 20)[1].close()  # warm: first-use allocations, the upstream connection
        time.sleep(1)
        subprocess.run(["callgrind_control", "-i", "on", str(proxy.pid)], check=True, capture_output=True)
        statuses = bench.post_keep_alive(ports["proxy"], path, payload, args.requests)[0]
        time.sleep(4)  # the ledger (idle CPU only) writes the last rows inside the measured window
        subprocess.run(["callgrind_control", "-i", "off", str(proxy.pid)], check=True, capture_output=True)
    finally:
        proxy.terminate()
        proxy.wait(timeout=120)
        nginx.terminate()
        nginx.wait()
    print(f"{args.requests} requests, body {args.body} ({len(payload)} B), chain {args.chain}, statuses {statuses}")
    for thread, total in thread_totals(work).items():
        if total:
            print(f"  {thread:32} {total / args.requests:>10,.0f} instructions per request")
    print(f"callgrind files: {work}")


if __name__ == "__main__":
    main()
