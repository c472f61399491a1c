#!/usr/bin/env bash
# Checks what can be checked of the deployment files without a container engine:
# docker-compose.yml with Debian's docker-compose (`config` validates and resolves it),
# and that every Kubernetes manifest parses and names what it should.
source "$(dirname "$0")/lib.sh"
apt_install docker-compose python3-yaml
cd "$ROOT"
docker-compose -f docker-compose.yml config --quiet
say "docker-compose.yml is valid"
python3 - <<'PY'
import glob, sys, yaml
kinds = {}
for path in sorted(glob.glob("deploy/k8s/*.yaml")):
    for doc in yaml.safe_load_all(open(path)):
        if doc:
            kinds.setdefault(doc["kind"], []).append(doc.get("metadata", {}).get("name", path))
expected = {"Deployment": 4, "Service": 4, "ConfigMap": 1, "Secret": 1, "Job": 1, "ScaledObject": 1}
missing = {k: n for k, n in expected.items() if len(kinds.get(k, [])) < n}
print("deploy/k8s:", {k: len(v) for k, v in kinds.items()})
sys.exit(f"missing: {missing}" if missing else 0)
PY
say "deploy/k8s manifests parse"
