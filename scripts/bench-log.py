#!/usr/bin/env python3
"""Deterministic generator for the ciguard benchmark (scripts/bench).

Writes, into OUT_DIR:
  elt.log       a realistic ELT job log of about --size bytes: Meltano-style RECORD/STATE lines,
                Singer SDK METRIC lines as `meltano run` prints them, HTTP request and SQL lines,
                plus a few percent of lines holding a registered secret (raw or encoded) and
                about one percent holding something only a detector catches (DSN, glpat-, Bearer);
  secrets.env   NUL-separated NAME=VALUE pairs: BENCH_SECRET_0001_PASSWORD .. _<N>_PASSWORD
                (--secrets, default 1000). The log only embeds secrets 1..100, so the 100- and
                the 1,000-secret runs have the same work to do on the matching side;
  forms.txt     every secret form embedded in the log, one per line (for `grep -F -f`: none of
                them may survive `ciguard run`);
  meta.json     counts (lines, bytes, secret lines by form, detector lines) and the parameters.

The same --seed and --size give the same bytes on any Python 3.8+. Lines are built from
pre-computed pools and written in ~4 MB blocks, so 200 MB takes a few seconds.
"""

import argparse
import base64
import json
import os
import random
import sys
import urllib.parse

STREAMS = ["users", "orders", "order_items", "invoices", "events", "accounts", "products", "tickets"]
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Ken", "Margaret", "Linus", "Frances"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Thompson", "Hamilton"]
DOMAINS = ["example.com", "example.org", "mail.test", "corp.example"]
STATUS = ["open", "closed", "pending", "shipped", "refunded", "active"]
TAPS = ["tap-github", "tap-postgres", "tap-salesforce", "tap-stripe", "tap-hubspot"]
ENDPOINTS = [
    "https://api.github.com/repos/acme/warehouse/issues",
    "https://api.stripe.com/v1/charges",
    "https://acme.my.salesforce.com/services/data/v58.0/query",
    "https://api.hubapi.com/crm/v3/objects/contacts",
    "https://api.example.com/v2/orders",
]
SQL = [
    'SELECT "{t}"."id", "{t}"."updated_at", "{t}"."payload" FROM "public"."{t}" WHERE "{t}"."updated_at" >= %(updated_at_1)s ORDER BY "{t}"."updated_at"',
    'INSERT INTO "analytics"."{t}" ("id", "name", "email", "updated_at", "_sdc_batched_at") VALUES (%(id)s, %(name)s, %(email)s, %(updated_at)s, %(_sdc_batched_at)s)',
    'MERGE INTO "analytics"."{t}" AS target USING "analytics"."{t}_tmp_{n}" AS temp ON target."id" = temp."id" WHEN MATCHED THEN UPDATE SET "name" = temp."name"',
    'CREATE TEMPORARY TABLE "{t}_tmp_{n}" (LIKE "analytics"."{t}" INCLUDING DEFAULTS)',
]
# Characters that make every encoding differ from the raw value and from each other:
# percent-encoding changes @ : / space % " \ ; JSON escaping changes " and \ ; repr doubles \ .
SPECIAL = '@:/" \\%'
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
TOKEN_CHARS = ALNUM + "_-"


def make_secret(rng):
    """16..32 chars with at least one each of `"`, `\\`, space and one of `@ : / %`."""
    n = rng.randint(16, 32)
    chars = [rng.choice(ALNUM + SPECIAL) for _ in range(n - 4)]
    for c in ['"', "\\", " ", rng.choice("@:/%")]:
        chars.insert(rng.randrange(1, len(chars)), c)
    if rng.random() < 0.1:  # some non-ASCII, for the \uXXXX JSON form
        chars.insert(rng.randrange(1, len(chars)), rng.choice("éüßø€"))
    # No leading/trailing space: values from env files are often stripped.
    chars[0] = rng.choice(ALNUM)
    chars[-1] = rng.choice(ALNUM)
    return "".join(chars)


def b64_inside(rng, raw):
    """Base64 of the secret inside longer binary-ish text, at a random byte alignment."""
    pre = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 2) + 3 * rng.randint(1, 4)))
    post = bytes(rng.getrandbits(8) for _ in range(rng.randint(3, 12)))
    return base64.b64encode(pre + raw + post).decode()


def encoded_forms(s):
    raw = s.encode()
    return {
        "raw": s,
        "base64": base64.b64encode(raw).decode(),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "percent": urllib.parse.quote(s, safe=""),
        "percent_plus": urllib.parse.quote_plus(s, safe=""),
        "json": json.dumps(s)[1:-1],
        "json_utf8": json.dumps(s, ensure_ascii=False)[1:-1],
        "repr": s.replace("\\", "\\\\"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--size", type=int, default=200_000_000, help="bytes (default 200 MB)")
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--secrets", type=int, default=1000)
    ap.add_argument("--embedded", type=int, default=100, help="secrets 1..N appear in the log")
    ap.add_argument("--secret-rate", type=float, default=0.03, help="fraction of lines with a secret")
    ap.add_argument("--detector-rate", type=float, default=0.01, help="fraction with a detector hit")
    a = ap.parse_args()

    rng = random.Random(a.seed)
    os.makedirs(a.out_dir, exist_ok=True)

    secrets = [make_secret(rng) for _ in range(a.secrets)]
    width = max(3, len(str(a.secrets)))
    names = [f"BENCH_SECRET_{i + 1:0{width}d}_PASSWORD" for i in range(a.secrets)]
    with open(os.path.join(a.out_dir, "secrets.env"), "wb") as f:
        for name, value in zip(names, secrets):
            f.write(f"{name}={value}".encode() + b"\0")

    emb = secrets[: a.embedded]
    forms = [encoded_forms(s) for s in emb]
    # Pre-computed pools, so the hot loop only picks and formats.
    emails = [f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()}{i}@{rng.choice(DOMAINS)}" for i in range(997)]
    names_pool = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(211)]
    stamps = [f"2026-11-23T05:{m:02d}:{s:02d}.{rng.randrange(10**6):06d}Z" for m in range(60) for s in range(60)]
    sdk_stamps = [f"2026-11-23 05:{m:02d}:{s:02d},{rng.randrange(1000):03d}" for m in range(60) for s in range(60)]
    tokens = ["".join(rng.choice(TOKEN_CHARS) for _ in range(20)) for _ in range(64)]
    bearer = [
        "".join(rng.choice(ALNUM) for _ in range(40)) for _ in range(32)
    ]
    passwords = ["".join(rng.choice(ALNUM + "!*_-") for _ in range(rng.randint(10, 24))) for _ in range(32)]

    def suffix(tap, stdio="stderr"):
        return f" cmd_type=elb consumer=False name={tap} producer=True stdio={stdio} string_id={tap}\n"

    embedded_strings = set()
    counts = {"lines": 0, "secret_lines": 0, "detector_lines": 0, "by_form": {}, "by_detector": {}}
    by_form = counts["by_form"]
    by_det = counts["by_detector"]

    r = rng.random
    ri = rng.randrange
    ch = rng.choice
    t_secret = a.secret_rate
    t_det = t_secret + a.detector_rate
    written = 0
    buf = []
    buf_len = 0
    n = 0
    path = os.path.join(a.out_dir, "elt.log")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 22) as out:
        while written + buf_len < a.size:
            n += 1
            ts = stamps[n % 3600]
            tap = TAPS[(n >> 12) % len(TAPS)]
            stream = STREAMS[(n >> 8) % len(STREAMS)]
            x = r()
            if x < t_secret:
                k = ri(len(emb))
                f = forms[k]
                kind = ch(("raw", "raw", "json", "json_utf8", "percent", "percent_plus", "repr",
                           "base64", "base64url", "base64_inside"))
                if kind == "raw":
                    v = f["raw"]
                    line = f"{ts} [error    ] tap_postgres.client: could not authenticate with password {v} for user loader{suffix(tap)}"
                elif kind in ("json", "json_utf8"):
                    v = f[kind]
                    line = f'{{"type": "RECORD", "stream": "connections", "record": {{"id": {n}, "kind": "api", "secret": "{v}", "updated_at": "{ts}"}}}}\n'
                elif kind in ("percent", "percent_plus"):
                    v = f[kind]
                    line = f"{ts} [debug    ] GET {ch(ENDPOINTS)}?api_key={v}&page={n % 97} status=200{suffix(tap)}"
                elif kind == "repr":
                    v = f["repr"]
                    line = f"{ts} [error    ] KeyError: 'schema' in config {{'user': 'loader', 'secret': '{v}', 'port': 5432}}{suffix(tap)}"
                elif kind == "base64_inside":
                    v = b64_inside(rng, f["raw"].encode())
                    line = f"{ts} [debug    ] sending batch manifest blob={v} bytes={len(v)}{suffix(tap)}"
                else:
                    v = f[kind]
                    line = f"{ts} [debug    ] X-Api-Key header (b64) {v}{suffix(tap)}"
                if kind != "base64_inside":
                    # (Inside longer base64 the secret's form depends on its alignment: only
                    # the scrubber's own count covers those lines.)
                    embedded_strings.add(v)
                by_form[kind] = by_form.get(kind, 0) + 1
                counts["secret_lines"] += 1
            elif x < t_det:
                d = ri(3)
                if d == 0:
                    pw = ch(passwords)
                    line = (f"{ts} [error    ] sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server failed; "
                            f"url=postgresql://loader:{pw}@db{n % 7}.internal:5432/warehouse?sslmode=require{suffix('target-postgres')}")
                    det = "uri_password"
                elif d == 1:
                    line = f"{ts} [info     ] cloning with token glpat-{ch(tokens)} into /builds/acme/elt{suffix(tap)}"
                    det = "gitlab_token"
                else:
                    line = f"{ts} [debug    ] send: b'GET /v1/items HTTP/1.1\\r\\nHost: api.example.com\\r\\nAuthorization: Bearer {ch(bearer)}\\r\\n'{suffix(tap)}"
                    det = "authorization"
                by_det[det] = by_det.get(det, 0) + 1
                counts["detector_lines"] += 1
            elif x < 0.60:
                line = (f'{{"type": "RECORD", "stream": "{stream}", "record": {{"id": {n}, "name": "{names_pool[n % 211]}", '
                        f'"email": "{emails[n % 997]}", "status": "{STATUS[n % 6]}", "amount": {(n * 7919) % 100000 / 100:.2f}, '
                        f'"updated_at": "{ts}"}}, "time_extracted": "{ts}"}}\n')
            elif x < 0.74:
                if n & 1:
                    body = (f'{{"type": "counter", "metric": "record_count", "value": {n % 10000}, '
                            f'"tags": {{"stream": "{stream}", "context": {{"page": {n % 500}}}}}}}')
                else:
                    body = (f'{{"type": "timer", "metric": "http_request_duration", "value": {(n % 997) / 1000:.3f}, '
                            f'"tags": {{"stream": "{stream}", "endpoint": "/v1/{stream}", "http_status_code": 200, "status": "succeeded"}}}}')
                line = f"{ts} [info     ] {sdk_stamps[n % 3600]} | INFO     | singer_sdk.metrics   | METRIC: {body}{suffix(tap)}"
            elif x < 0.85:
                line = (f"{ts} [info     ] {sdk_stamps[n % 3600]} | INFO     | {tap}.{stream} | HTTP Request: GET "
                        f"{ENDPOINTS[n % 5]}?per_page=100&page={n % 400}&since=2026-11-01T00%3A00%3A00Z \"HTTP/1.1 200 OK\"{suffix(tap)}")
            elif x < 0.93:
                sql = SQL[n & 3].format(t=stream, n=n % 1000)
                line = f"{ts} [debug    ] sqlalchemy.engine.Engine {sql}{suffix('target-postgres')}"
            elif x < 0.97:
                line = (f'{{"type": "STATE", "value": {{"bookmarks": {{"{stream}": {{"replication_key": "updated_at", '
                        f'"replication_key_value": "{ts}"}}}}, "currently_syncing": "{stream}"}}}}\n')
            else:
                line = f"{ts} [info     ] Target sink for '{stream}' is full. Draining...{suffix('target-postgres', 'stderr')}"
            buf.append(line)
            buf_len += len(line)
            if buf_len >= 1 << 22:
                out.write("".join(buf))
                written += buf_len  # chars, close enough to bytes for the stop test
                buf.clear()
                buf_len = 0
        if buf:
            out.write("".join(buf))
    os.replace(tmp, path)
    counts["lines"] = n
    counts["bytes"] = os.path.getsize(path)
    counts.update(seed=a.seed, size=a.size, secrets=a.secrets, embedded=a.embedded)

    with open(os.path.join(a.out_dir, "forms.txt"), "w", encoding="utf-8") as f:
        for s in sorted(embedded_strings):
            f.write(s + "\n")
    with open(os.path.join(a.out_dir, "meta.json"), "w") as f:
        json.dump(counts, f, indent=1, sort_keys=True)
    json.dump(counts, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
