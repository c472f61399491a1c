#!/usr/bin/env bash
# Runs ottr's fault and load tests against real processes on this machine (traffic only
# to 127.0.0.1, each bounded in time). Each prints one summary line and fails when its
# promise does not hold; this script fails when any of them did.
#
#   scripts/faults/run.sh            the fast ones (CI runs these): about 5 minutes
#   scripts/faults/run.sh all        the fast ones and the 10-minute soak
#   scripts/faults/run.sh redis_stop soak …   the named ones
source "$(dirname "$0")/../lib.sh"
FAST=(redis_stop pg_restart storage_outage kill_media kill_sender openapi_fuzz abuse)
case "${1:-fast}" in
  fast) TESTS=("${FAST[@]}") ;;
  all) TESTS=("${FAST[@]}" soak) ;;
  *) TESTS=("$@") ;;
esac
prepare_machine
fault_binaries
schemathesis_tool
failed=()
for test in "${TESTS[@]}"; do
  say "fault test: $test"
  python3 "$ROOT/scripts/faults/$test.py" || failed+=("$test")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fault tests failed: ${failed[*]}" >&2
  exit 1
fi
