#!/usr/bin/env python3
"""Summarises a schemathesis run for `make fuzz`: requests sent, answers by status class, 5xx,
failures by check (from the JUnit report), and whether authd was still running. Exits 1 when
there was a 5xx, a failed check, a dead server, or fewer requests than FUZZ_MIN_REQUESTS."""
import glob
import json
import os
import sys
import xml.etree.ElementTree as ET

report, alive = sys.argv[1], sys.argv[2] == "1"
entries = []
for path in glob.glob(os.path.join(report, "**", "har-*.json"), recursive=True):
    with open(path) as f:
        entries += json.load(f).get("log", {}).get("entries", [])
classes = {}
server_errors = []
for entry in entries:
    status = entry.get("response", {}).get("status", 0)
    classes[f"{status // 100}xx"] = classes.get(f"{status // 100}xx", 0) + 1
    if status >= 500:
        request = entry.get("request", {})
        server_errors.append(f"{status} {request.get('method')} {request.get('url')}")

failures = {}
for path in glob.glob(os.path.join(report, "**", "*.xml"), recursive=True):
    for case in ET.parse(path).getroot().iter("testcase"):
        for failure in list(case.findall("failure")) + list(case.findall("error")):
            text = (failure.get("message") or failure.text or "").strip().splitlines()
            title = text[0] if text else "failure"
            key = f"{case.get('name')}: {title}"
            failures[key] = failures.get(key, 0) + 1

minimum = int(os.environ.get("FUZZ_MIN_REQUESTS", "2000"))
print("")
print("| fuzz (schemathesis)            | count |")
print("|--------------------------------|-------|")
print(f"| requests                       | {len(entries)} |")
for name in sorted(classes):
    print(f"| answers {name}                    | {classes[name]} |")
print(f"| 5xx                            | {len(server_errors)} |")
print(f"| failed checks (operations)     | {len(failures)} |")
print(f"| authd still running            | {'yes' if alive else 'NO'} |")
for line in server_errors[:20]:
    print("  5xx:", line)
for key in sorted(failures)[:40]:
    print("  failed:", key)
# A run that never got past the guard tested little: require a share of successful answers.
successes = classes.get("2xx", 0)
ok = alive and not server_errors and not failures and len(entries) >= minimum and successes >= len(entries) // 20
if successes < len(entries) // 20:
    print("  fewer than 5% of the answers were 2xx: did the fuzz user's token work?")
if len(entries) < minimum:
    print(f"  fewer than {minimum} requests (FUZZ_MIN_REQUESTS)")
sys.exit(0 if ok else 1)
