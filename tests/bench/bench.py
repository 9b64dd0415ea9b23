#!/usr/bin/env python3
"""Understudy benchmark: the proxy against a direct run to the same upstream, interleaved, in one run.

Upstreams are nginx (canned Anthropic JSON, an SSE stream, a 429 with a long retry-after). Load is wrk with
wrk_post.lua; time to first byte comes from curl. Every figure is reported as min/median/max over the rounds,
and the proxy's cost as a difference or ratio against the direct run measured in the same round.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(ROOT, "tests", "data", "fixtures", "claude_code.messages.stream.json")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def sse_body():
    events = [
        ("message_start", {"type": "message_start", "message": {"id": "msg_bench", "type": "message", "role": "assistant",
                                                                "model": "bench-model", "content": [], "stop_reason": None,
                                                                "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ]
    events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                        "delta": {"type": "text_delta", "text": f"word{i} "}}) for i in range(20)]
    events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
               ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 20}}),
               ("message_stop", {"type": "message_stop"})]
    return "".join(f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n" for name, data in events)


def nginx_conf(work, ports):
    message = json.dumps({"id": "msg_bench", "type": "message", "role": "assistant", "model": "bench-model",
                          "content": [{"type": "text", "text": "hello from nginx"}], "stop_reason": "end_turn",
                          "usage": {"input_tokens": 10, "output_tokens": 4}}, separators=(",", ":"))
    limited = '{"type":"error","error":{"type":"rate_limit_error","message":"rate limited"}}'
    completion = json.dumps({"id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": "bench-model",
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello from nginx"},
                                          "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}}, separators=(",", ":"))
    quote = lambda s: "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return f"""
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_max_body_size 64m;
  client_body_buffer_size 4m;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  server {{ listen 127.0.0.1:{ports['json']}; location / {{ default_type application/json; return 200 {quote(message)}; }} }}
  server {{ listen 127.0.0.1:{ports['sse']}; location / {{ default_type text/event-stream; return 200 {quote(sse_body())}; }} }}
  server {{ listen 127.0.0.1:{ports['chat']}; location / {{ default_type application/json; return 200 {quote(completion)}; }} }}
  server {{ listen 127.0.0.1:{ports['limited']}; location / {{ add_header retry-after 86400 always;
           default_type application/json; return 429 {quote(limited)}; }} }}
}}
"""


def proxy_conf(ports):
    provider = lambda port: {"type": "anthropic", "baseUrl": f"http://127.0.0.1:{port}", "auth": "client"}
    return {
        "version": 1,
        "listen": {"host": "127.0.0.1", "port": ports["proxy"]},
        "providers": {"json": provider(ports["json"]), "sse": provider(ports["sse"]), "limited": provider(ports["limited"]),
                      "chat": {"type": "openai-chat", "baseUrl": f"http://127.0.0.1:{ports['chat']}/v1", "auth": "client"}},
        "chains": {"json": {"steps": [{"provider": "json"}]},
                   "translate": {"steps": [{"provider": "chat"}]},
                   "sse": {"steps": [{"provider": "sse"}]},
                   "failover": {"steps": [{"provider": "limited"}, {"provider": "json"}]}},
        "activeChain": "json",
        "failover": {"maxRetryAfterWaitMs": 0, "primaryRecoveryCheckIntervalMs": 3600000},
    }


def post_keep_alive(port, path, body, count, connection=None):
    """Sends `count` POSTs on one connection (a new one unless given), reading each answer whole; returns the
    statuses seen and the connection, left open."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"x-api-key: bench-not-a-key\r\nanthropic-version: 2023-06-01\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    statuses = {}
    s = connection or socket.create_connection(("127.0.0.1", port))
    reader = s.makefile("rb")
    for _ in range(count):
        s.sendall(head + body)
        status = int(reader.readline().split()[1])
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        reader.read(length)
        statuses[status] = statuses.get(status, 0) + 1
    return statuses, s


def idle_connection_kb(pid, port, path, body, count):
    """What `count` keep-alive connections cost the proxy while idle, each after one request: RSS growth / count."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(4096, count + 256), resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    post_keep_alive(port, path, body, 1)[1].close()  # the upstream connection and first-use allocations
    time.sleep(0.3)
    before = memory_kb(pid, "VmRSS")
    connections = [post_keep_alive(port, path, body, 1)[1] for _ in range(count)]
    time.sleep(0.5)
    after = memory_kb(pid, "VmRSS")
    for c in connections:
        c.close()
    return (after - before) / count


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def settled_cpu_seconds(pid, timeout=10.0):
    """The process's CPU time once it has gone quiet: the ledger thread runs on idle CPU only, so part of a run's
    cost (writing its rows) is paid after the load stops, and belongs to that run."""
    end = time.time() + timeout
    last = cpu_seconds(pid)
    while time.time() < end:
        time.sleep(0.2)
        now = cpu_seconds(pid)
        if now == last:
            return now
        last = now
    return last


def memory_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def wrk(url, body_file, connections, seconds):
    env = dict(os.environ, BENCH_BODY=body_file)
    threads = min(connections, 2)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s",
                          os.path.join(HERE, "wrk_post.lua"), url], env=env, capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("BENCH "))
    return json.loads(line[6:])


def ttfb(url, body_file, count):
    """Median time to first byte of a streamed answer, in microseconds, as curl measures it."""
    times = []
    for _ in range(count):
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{time_starttransfer}", "-H", "content-type: application/json",
                              "-H", "x-api-key: bench-not-a-key", "--data-binary", f"@{body_file}", url],
                             capture_output=True, text=True, check=True).stdout
        times.append(float(out) * 1e6)
    return statistics.median(times)


def summary(values, unit, digits=0):
    fmt = f"{{:.{digits}f}}"
    return f"{fmt.format(min(values))} / {fmt.format(statistics.median(values))} / {fmt.format(max(values))} {unit}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=3)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="understudy-bench-")
    ports = {k: free_port() for k in ("json", "sse", "limited", "chat", "proxy")}
    with open(os.path.join(work, "nginx.conf"), "w") as f:
        f.write(nginx_conf(work, ports))
    with open(os.path.join(work, "understudy.json"), "w") as f:
        json.dump(proxy_conf(ports), f)

    fixture = json.load(open(FIXTURE))["body"]
    bodies = {}
    for name, body in (("small", {"model": "claude-bench", "max_tokens": 64, "messages": [{"role": "user", "content": "say hi"}]}),
                       ("large", dict(fixture, stream=False)), ("stream", dict(fixture, stream=True)),
                       ("huge", dict(fixture, stream=False, messages=fixture["messages"] * 150))):
        path = os.path.join(work, f"{name}.json")
        with open(path, "w") as f:
            json.dump(body, f, separators=(",", ":"))
        bodies[name] = path

    nginx = subprocess.Popen(["nginx", "-c", os.path.join(work, "nginx.conf"), "-p", work], stderr=subprocess.DEVNULL)
    env = dict(os.environ, XDG_DATA_HOME=work, XDG_CONFIG_HOME=work)
    proxy = subprocess.Popen([args.binary, "--headless", "--config", os.path.join(work, "understudy.json")],
                             stderr=subprocess.DEVNULL, env=env)
    try:
        for port in ports.values():
            wait_port(port)
        time.sleep(0.5)
        idle_rss = memory_kb(proxy.pid, "VmRSS")
        direct = lambda port, path="/v1/messages": f"http://127.0.0.1:{port}{path}"
        via = lambda chain: f"http://127.0.0.1:{ports['proxy']}/chains/{chain}/v1/messages"

        scenarios = [  # name, body, connections, direct url, proxied url
            ("small body, 1 connection", "small", 1, direct(ports["json"]), via("json")),
            ("small body, 16 connections", "small", 16, direct(ports["json"]), via("json")),
            ("small body, 64 connections", "small", 64, direct(ports["json"]), via("json")),
            (f"large body ({os.path.getsize(bodies['large']) // 1024} KB), 1 connection", "large", 1, direct(ports["json"]), via("json")),
            (f"large body ({os.path.getsize(bodies['large']) // 1024} KB), 16 connections", "large", 16, direct(ports["json"]), via("json")),
            ("failover path (429 primary cooling → fallback), 16 connections", "small", 16, direct(ports["json"]), via("failover")),
            (f"huge body ({os.path.getsize(bodies['huge']) // 1024} KB), same dialect, 1 connection", "huge", 1, direct(ports["json"]), via("json")),
            (f"huge body ({os.path.getsize(bodies['huge']) // 1024} KB), Anthropic → OpenAI Chat, 1 connection", "huge", 1, direct(ports["chat"], "/v1/chat/completions"), via("translate")),
        ]
        # Prime the failover chain so that its primary is cooling, as it would be after the first 429.
        subprocess.run(["curl", "-s", "-o", "/dev/null", "-H", "content-type: application/json", "--data-binary",
                        f"@{bodies['small']}", via("failover")], check=True)

        results = {name: {"direct": [], "proxy": [], "cpu_us": []} for name, *_ in scenarios}
        ttfb_direct, ttfb_proxy = [], []
        for round_ in range(args.rounds):
            for name, body, conns, direct_url, proxy_url in scenarios:
                results[name]["direct"].append(wrk(direct_url, bodies[body], conns, args.seconds))
                before = cpu_seconds(proxy.pid)
                r = wrk(proxy_url, bodies[body], conns, args.seconds)
                results[name]["cpu_us"].append((settled_cpu_seconds(proxy.pid) - before) * 1e6 / max(1, r["requests"]))
                results[name]["proxy"].append(r)
            ttfb_direct.append(ttfb(direct(ports["sse"]), bodies["stream"], 50))
            ttfb_proxy.append(ttfb(via("sse"), bodies["stream"], 50))
            print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)

        per_connection = idle_connection_kb(proxy.pid, ports["proxy"], "/chains/json/v1/messages",
                                            open(bodies["small"], "rb").read(), 1000)
        peak_rss = memory_kb(proxy.pid, "VmHWM")
        print(f"# Understudy benchmark ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
              f"{args.rounds} rounds × {args.seconds} s, min / median / max)\n")
        print("| scenario | direct req/s | proxied req/s | added p50 | added p99 | proxy CPU per request | errors |")
        print("|---|---|---|---|---|---|---|")
        for name, *_ in scenarios:
            d, p = results[name]["direct"], results[name]["proxy"]
            added50 = [pp["p50_us"] - dd["p50_us"] for dd, pp in zip(d, p)]
            added99 = [pp["p99_us"] - dd["p99_us"] for dd, pp in zip(d, p)]
            errors = sum(x["errors"] for x in p)
            print(f"| {name} | {summary([x['rps'] for x in d], '')} | {summary([x['rps'] for x in p], '')} | "
                  f"{summary(added50, 'µs')} | {summary(added99, 'µs')} | {summary(results[name]['cpu_us'], 'µs', 1)} | {errors} |")
        added_ttfb = [p - d for d, p in zip(ttfb_direct, ttfb_proxy)]
        print(f"\nStream time to first byte (median of 50 per round): direct {summary(ttfb_direct, 'µs')}, "
              f"proxied {summary(ttfb_proxy, 'µs')}, added {summary(added_ttfb, 'µs')}.")
        print(f"\nProxy memory: idle RSS {idle_rss / 1024:.1f} MB, peak RSS {peak_rss / 1024:.1f} MB; "
              f"{per_connection:.1f} KB per idle keep-alive connection (1,000 held after one request each).")
    finally:
        proxy.send_signal(signal.SIGTERM)
        nginx.send_signal(signal.SIGQUIT)
        proxy.wait(timeout=10)
        nginx.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
