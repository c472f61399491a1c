#!/usr/bin/env bash
# Prepares the machine, then runs every test in the workspace against the real
# PostgreSQL, Redis and ffmpeg, then the fast fault tests (scripts/faults/run.sh) against
# real ottr processes. Arguments go to the test runner and skip the fault tests.
source "$(dirname "$0")/lib.sh"
prepare_machine
cd "$ROOT"
if cargo nextest --version >/dev/null 2>&1; then
  say "running the test suite (cargo nextest)"
  cargo nextest run --workspace --no-fail-fast "$@"
else
  say "running the test suite (cargo test; install cargo-nextest for a faster run)"
  cargo test --workspace --no-fail-fast "$@"
fi
if [ $# -eq 0 ]; then
  bash "$ROOT/scripts/faults/run.sh" fast
fi
