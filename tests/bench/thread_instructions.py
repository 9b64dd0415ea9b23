#!/usr/bin/env python3
"""Instructions per request on each of the proxy's threads, counted by callgrind (docs/benchmarks.md).

Sequential small requests on one keep-alive connection through `understudy --headless` to the nginx upstream of
bench.py, with instrumentation on only during the load (and the ledger's last flush after it). Instruction counts
repeat to within a few per cent on a busy machine, where times do not. How many rows a flush writes and how many
snapshots the load sees depend on how fast the requests go under valgrind, as they would on a real machine.

    tests/bench/thread_instructions.py --binary build/app/understudy [--requests 1000]
"""
import argparse
import glob
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  the upstream and the proxy's config


def thread_name(path):
    text = open(path, errors="replace").read()
    if "LedgerWriter::flush" in text:
        return "ledger thread"
    if "Exchange::" in text:
        return "proxy thread"
    return "other (" + os.path.basename(path) + ")"


def total_instructions(path):
    for line in open(path, errors="replace"):
        if line.startswith("totals:"):  # what was counted ("summary:" stays 0 in a dump made on request)
            return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="understudy-callgrind-")
    ports = {k: bench.free_port() for k in ("json", "sse", "limited", "chat", "proxy")}
    with open(os.path.join(work, "nginx.conf"), "w") as f:
        f.write(bench.nginx_conf(work, ports))
    with open(os.path.join(work, "understudy.json"), "w") as f:
        json.dump(bench.proxy_conf(ports), f)
    body = json.dumps({"model": "claude-bench", "max_tokens": 64, "messages": [{"role": "user", "content": "say hi"}]})
    headers = {"content-type": "application/json", "x-api-key": "bench-not-a-key", "anthropic-version": "2023-06-01"}

    nginx = subprocess.Popen(["nginx", "-c", os.path.join(work, "nginx.conf"), "-p", work], stderr=subprocess.DEVNULL)
    env = dict(os.environ, XDG_DATA_HOME=work, XDG_CONFIG_HOME=work)
    out = os.path.join(work, "callgrind.out")
    proxy = subprocess.Popen(["valgrind", "--tool=callgrind", "--separate-threads=yes", "--instr-atstart=no",
                              f"--callgrind-out-file={out}", args.binary, "--headless", "--config",
                              os.path.join(work, "understudy.json")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        bench.wait_port(ports["json"])
        bench.wait_port(ports["proxy"], timeout=120)
        time.sleep(2)  # the ledger opens and publishes its first snapshot before the load
        subprocess.run(["callgrind_control", "-i", "on", str(proxy.pid)], check=True, capture_output=True)
        connection = http.client.HTTPConnection("127.0.0.1", ports["proxy"], timeout=60)
        started = time.time()
        for _ in range(args.requests):
            connection.request("POST", "/chains/json/v1/messages", body, headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"the proxy answered {response.status}")
        seconds = time.time() - started
        time.sleep(1)  # the last rows' flush
        subprocess.run(["callgrind_control", "-i", "off", str(proxy.pid)], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-d", str(proxy.pid)], check=True, capture_output=True)
    finally:
        proxy.terminate()
        proxy.wait(timeout=60)
        nginx.terminate()
        nginx.wait(timeout=10)

    print(f"{args.requests} requests in {seconds:.1f} s under valgrind")
    for path in sorted(p for p in glob.glob(out + "*") if re.search(r"\.1-\d+$", p)):
        count = total_instructions(path)
        if count:
            print(f"{thread_name(path):32} {count / args.requests:>12,.0f} instructions per request")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
