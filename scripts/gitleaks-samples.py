#!/usr/bin/env python3
"""How many of gitleaks' own rule samples `ciguard run` masks (docs/benchmarks.md explains it).

    scripts/gitleaks-samples.py GITLEAKS_SRC [--ciguard BIN] [--rules ID,ID,...]

GITLEAKS_SRC is a checkout of github.com/gitleaks/gitleaks. Each rule in
cmd/generate/config/rules/*.go lists true-positive samples (`tps`) and false-positive samples
(`fps`). This script reads the string literals of those lists (not the samples gitleaks generates at
run time from a regex, which need its Go generator), writes each sample through
`ciguard run -- cat` with an empty environment (detectors only, nothing registered), and counts a
sample as masked when the output holds `[MASKED]` (for a true positive that is a lower bound of a
leak: a half-masked sample counts as masked; the rows are there to be read).

Prints one row per rule: samples, masked, share; then the totals of the rules ciguard claims (the
families of docs/masking.md) and of every rule's false positives.
"""

import argparse
import ast
import pathlib
import re
import subprocess
import sys
import tempfile

# The gitleaks rules whose secrets ciguard's detectors claim to mask (docs/masking.md).
CLAIMED = {
    "gitlab-pat", "gitlab-pat-routable", "gitlab-ptt", "gitlab-rrt", "gitlab-runner-authentication-token",
    "gitlab-runner-authentication-token-routable", "gitlab-cicd-job-token", "gitlab-deploy-token",
    "gitlab-feed-token", "gitlab-incoming-mail-token", "gitlab-kubernetes-agent-token",
    "gitlab-oauth-app-secret", "gitlab-scim-token", "gitlab-session-cookie", "gitlab-feature-flag-client-token",
    "github-pat", "github-fine-grained-pat", "github-oauth", "github-app-token", "github-refresh-token",
    "aws-access-token", "gcp-api-key", "slack-bot-token", "slack-user-token", "slack-app-token",
    "slack-config-access-token", "slack-config-refresh-token", "slack-legacy-bot-token",
    "slack-legacy-workspace-token", "slack-legacy-token", "slack-webhook-url", "stripe-access-token",
    "jwt", "jwt-base64", "private-key", "curl-auth-user", "curl-auth-header",
}

FUNC = re.compile(r"^func \w+\(\) \*config\.Rule \{", re.M)
RULE_ID = re.compile(r'RuleID:\s*"([^"]+)"')
LIST_START = re.compile(r"\b(tps|fps)\s*(?::=\s*\[\]string(?P<brace>\{)|=\s*append(?P<paren>\())")
LITERAL = re.compile(r'`[^`]*`|"(?:[^"\\\n]|\\.)*"')


def block(text, start, opener):
    """The text from `start` to the bracket that closes `opener`, skipping string literals."""
    closer = {"{": "}", "(": ")"}[opener]
    depth, i = 1, start
    while i < len(text) and depth:
        c = text[i]
        if c == "`":
            i = text.index("`", i + 1)
        elif c == '"':
            m = LITERAL.match(text, i)
            i = m.end() - 1 if m else i
        elif c == "/" and text.startswith("//", i):
            i = text.find("\n", i)
        elif c == opener:
            depth += 1
        elif c == closer:
            depth -= 1
        i += 1
    return text[start:i - 1]


def literals(body):
    """The string literals at the top level of a Go list body (calls' arguments left out)."""
    out, depth, i = [], 0, 0
    while i < len(body):
        c = body[i]
        if c in "`\"":
            m = LITERAL.match(body, i)
            if not m:
                break
            joined = body[:i].rstrip().endswith("+") or body[m.end():].lstrip().startswith("+")
            if depth == 0 and not joined:  # a literal joined to a generated part is not a sample
                raw = m.group(0)
                out.append(raw[1:-1] if raw[0] == "`" else ast.literal_eval(raw))
            i = m.end()
            continue
        if c == "/" and body.startswith("//", i):
            i = body.find("\n", i)
            i = len(body) if i < 0 else i
            continue
        depth += c in "({"
        depth -= c in ")}"
        i += 1
    return out


def samples(rules_dir):
    """{rule id: {"tps": [...], "fps": [...]}} from every rule file."""
    found = {}
    for path in sorted(pathlib.Path(rules_dir).glob("*.go")):
        text = path.read_text()
        starts = [m.start() for m in FUNC.finditer(text)] + [len(text)]
        for begin, end in zip(starts, starts[1:]):
            func = text[begin:end]
            rule = RULE_ID.search(func)
            if not rule:
                continue
            entry = found.setdefault(rule.group(1), {"tps": [], "fps": []})
            for m in LIST_START.finditer(func):
                opener = "{" if m.group("brace") else "("
                entry[m.group(1)] += literals(block(func, m.end(), opener))
    return found


def masked(ciguard, sample):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(sample + "\n")
    out = subprocess.run(
        ["env", "-i", "PATH=/usr/bin:/bin", ciguard, "run", "--", "cat", f.name],
        capture_output=True, text=True, check=False,
    ).stdout
    pathlib.Path(f.name).unlink()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("gitleaks_src")
    parser.add_argument("--ciguard", default="target/release/ciguard")
    args = parser.parse_args()
    rules_dir = pathlib.Path(args.gitleaks_src) / "cmd/generate/config/rules"
    if not rules_dir.is_dir():
        sys.exit(f"gitleaks-samples: no {rules_dir}: give a gitleaks checkout")
    table = samples(rules_dir)
    claimed_tp = claimed_hit = fp_all = fp_hit = 0
    print("| gitleaks rule | claimed | true positives masked | false positives masked |")
    print("|---|---|---:|---:|")
    for rule, entry in sorted(table.items()):
        tps, fps = entry["tps"], entry["fps"]
        if not tps and not fps:
            continue
        tp_hit = sum("[MASKED]" in masked(args.ciguard, s) for s in tps)
        fp_masked = sum("[MASKED]" in masked(args.ciguard, s) for s in fps)
        claimed = rule in CLAIMED
        if claimed:
            claimed_tp += len(tps)
            claimed_hit += tp_hit
        fp_all += len(fps)
        fp_hit += fp_masked
        if claimed or fp_masked:
            print(f"| {rule} | {'yes' if claimed else 'no'} | {tp_hit}/{len(tps)} | {fp_masked}/{len(fps)} |")
    print()
    print(f"Claimed rules: {claimed_hit} of {claimed_tp} literal true positives masked "
          f"({100 * claimed_hit / max(claimed_tp, 1):.1f}%).")
    print(f"All rules: {fp_hit} of {fp_all} literal false positives masked "
          f"({100 * fp_hit / max(fp_all, 1):.1f}%).")


if __name__ == "__main__":
    main()
