"""Fault test: schemathesis (from PyPI) generates requests from the edge's OpenAPI
document, valid and hostile, signed in as an editor so the editors' routes are reached
too. No request may get a 5xx: bad input must get a 4xx with its stable code."""

import os
import subprocess

from harness import ROOT, Stack, log, verdict

SCHEMATHESIS = os.environ.get("SCHEMATHESIS", os.path.join(ROOT, "target", "tools", "schemathesis", "bin", "schemathesis"))
SECONDS = int(os.environ.get("FUZZ_SECONDS", "120"))

with Stack("openapi-fuzz") as stack:
    stack.start_all()
    token = stack.login()
    stack.publish_titles(token, 3)
    report = os.path.join(stack.work, "report")
    log(f"schemathesis against {stack.edge}/api/v1/openapi.json for up to {SECONDS} s")
    run = subprocess.run(
        [SCHEMATHESIS, "run", f"{stack.edge}/api/v1/openapi.json", "--checks", "not_a_server_error",
         "--header", f"Authorization: Bearer {token}", "--max-time", str(SECONDS), "--workers", "2",
         "--request-timeout", "10", "--suppress-health-check", "all", "--report", "junit", "--report-dir", report],
        capture_output=True, text=True, cwd=stack.work,  # its cache stays out of the tree
        env={**os.environ, "SCHEMATHESIS_HOOKS": "fuzz_hooks",
             "PYTHONPATH": os.path.join(ROOT, "scripts", "faults")},
    )
    lines = run.stdout.splitlines()
    # "Test cases:" is followed by e.g. "5153 generated, 5153 passed".
    cases = next((lines[i + 1].strip() for i, line in enumerate(lines[:-1]) if line.strip() == "Test cases:"), "")
    alive = all(s.alive() for s in stack.services.values())

if run.returncode != 0 or not alive:
    print("\n".join(lines[-80:]))
generated = int(cases.split()[0]) if cases[:1].isdigit() else 0
held = run.returncode == 0 and alive and generated > 0
verdict("openapi-fuzz", held, f"test cases {cases or 'none'}; no 5xx {run.returncode == 0}; services alive {alive}")
