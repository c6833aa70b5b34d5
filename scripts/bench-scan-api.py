#!/usr/bin/env python3
"""Benchmark of `ciguard scan --gitlab` against a local stand-in for GitLab's API.

    scripts/bench-scan-api.py [--jobs 1000] [--log-bytes 1000000] [--latency-ms 20] [--bin PATH]

Serves one project (`data/elt`, in group `data`) with a masked group variable and a project
variable, `--jobs` jobs (100 per page, newest first, as `GET /projects/:id/jobs` pages them) and a
log of `--log-bytes` bytes for each (`GET /projects/:id/jobs/:id/trace`, text/plain); one job in
100 leaks a variable's value on its last line. Every answer waits `--latency-ms` first. Runs
`ciguard scan --gitlab` (default concurrency) once under /usr/bin/time and prints wall time, peak
RSS, the bytes scanned and the findings, which must be exactly the leaking jobs.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "glpat-BenchServerToken-0000"
GROUP_SECRET = "bench-Warehouse-Pass-71c9e2"
PROJECT_SECRET = "bench-Source-Api-Key-0b5d4a"
PROJECT = "/api/v4/projects/data%2Felt"


def variable(key, value):
    return {"key": key, "value": value, "variable_type": "env_var", "protected": True,
            "masked": True, "hidden": False, "raw": False, "environment_scope": "*",
            "description": None}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--log-bytes", type=int, default=1_000_000)
    parser.add_argument("--latency-ms", type=float, default=20)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--bin", default=os.path.join(root, "target/release/ciguard"))
    args = parser.parse_args()

    line = b"2026-11-30T08:12:27Z tap-postgres | INFO replicated 1000 rows of public.orders\n"
    log = line * (args.log_bytes // len(line))
    log += b"x" * (args.log_bytes - len(log))
    leaking = {job for job in range(1, args.jobs + 1) if job % 100 == 7}
    jobs = [{"id": job, "name": f"elt-{job}", "status": "success",
             "created_at": "2026-11-30T08:12:21.802Z", "erased_at": None,
             "web_url": f"https://gitlab.example.com/data/elt/-/jobs/{job}",
             "pipeline": {"id": 1000 + job // 10}} for job in range(args.jobs, 0, -1)]
    routes = {
        PROJECT: {"path_with_namespace": "data/elt",
                  "namespace": {"kind": "group", "full_path": "data"}},
        "/api/v4/groups/data/variables": [variable("WAREHOUSE_PASSWORD", GROUP_SECRET)],
        PROJECT + "/variables": [variable("TAP_API_KEY", PROJECT_SECRET)],
        PROJECT + "/jobs": jobs,
    }
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def do_GET(self):
            time.sleep(args.latency_ms / 1000)
            requests.append(self.path)
            url = urlsplit(self.path)
            if self.headers.get("PRIVATE-TOKEN") != TOKEN:
                return self.send(401, b'{"message":"401 Unauthorized"}')
            if url.path.endswith("/trace"):
                job = int(url.path.split("/")[-2])
                body = log + (f"\nusing {GROUP_SECRET}\n".encode() if job in leaking else b"")
                return self.send(200, body, "text/plain")
            route = routes.get(url.path)
            if route is None:
                return self.send(404, b'{"message":"404 Not Found"}')
            if isinstance(route, list):
                query = parse_qs(url.query)
                per_page = int(query.get("per_page", ["20"])[0])
                page = int(query.get("page", ["1"])[0])
                items = route[(page - 1) * per_page: page * per_page]
                more = page * per_page < len(route)
                headers = {"x-next-page": str(page + 1) if more else ""}
                return self.send(200, json.dumps(items).encode(), headers=headers)
            return self.send(200, json.dumps(route).encode())

        def send(self, status, body, content_type="application/json", headers=None):
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    with tempfile.TemporaryDirectory() as tmp:
        timing = os.path.join(tmp, "time")
        report = os.path.join(tmp, "report.json")
        env = {"PATH": os.environ["PATH"], "GITLAB_TOKEN": TOKEN}
        start = time.monotonic()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", timing, args.bin, "scan", "--gitlab",
             "--gitlab-url", url, "--project", "data/elt", "--since", "36500d",
             "--format", "json", "--output", report, "--fail-on", "never"],
            env=env, cwd=tmp, capture_output=True, text=True)
        wall = time.monotonic() - start
        if done.returncode != 0:
            sys.exit(f"ciguard scan failed ({done.returncode}):\n{done.stderr}")
        rss_kb, user, system = open(timing).read().split()
        findings = json.load(open(report))["findings"]
    found = sorted(int(f["location"]["path"].rsplit("/", 1)[1]) for f in findings)
    traces = sum(1 for r in requests if r.endswith("/trace"))
    total = args.jobs * args.log_bytes / 1e6
    print(f"## ciguard scan --gitlab: {args.jobs:,} job logs of {args.log_bytes:,} bytes, "
          f"{args.latency_ms:g} ms per request\n")
    print(f"- Wall time: **{wall:.2f} s** ({total / wall:,.0f} MB/s of logs); "
          f"peak RSS {int(rss_kb) / 1024:.1f} MiB; CPU {float(user) + float(system):.2f} s.")
    print(f"- Requests: {len(requests):,} ({traces:,} logs); findings in jobs {found} "
          f"(expected {sorted(leaking)}: {'yes' if found == sorted(leaking) else 'NO'}).")
    print(f"- Floor (issue 15): under 15 s: {'yes' if wall < 15 else 'NO'}.")
    print(f"- stderr: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}")
    if found != sorted(leaking):
        sys.exit(1)


if __name__ == "__main__":
    main()
