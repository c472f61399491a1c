#!/usr/bin/env bash
# Fault test: kill -9 of the media process at about 50% of a transcode. A second media
# process (same database and storage) must complete the job exactly once within the
# lease, with no object of the killed attempt left. Real processes, traffic only to
# 127.0.0.1, bounded in time. Prints one summary line; exits non-zero when the promise fails.
source "$(dirname "$0")/../lib.sh"
prepare_machine
cd "$ROOT"
cargo build --quiet -p ottr-cli --bin ottr
OTTR="$ROOT/target/debug/ottr"
WORK="$(mktemp -d)"
DB="ottr_fault_$(date +%s)_$$"
BASE="${PGURL_ADMIN%/*}"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  psql "$PGURL_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "${KEEP_WORK:-}" = 1 ]; then echo "work kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
export OTTR__DATABASE__URL="$BASE/$DB" OTTR__REDIS__KEY_PREFIX="$DB:" RUST_LOG=warn
export OTTR__MEDIA__STORAGE__LOCAL_ROOT="$WORK/objects" OTTR__MEDIA__WORKER__LEASE_SECS=10
export OTTR__MEDIA__WORKER__HEARTBEAT_SECS=2 OTTR__MEDIA__WORKER__PRESET=medium
export OTTR__AUTH__LISTEN__PORT=0 OTTR__EDGE__LISTEN__PORT=0 OTTR__MEDIA__LISTEN__PORT=0
"$OTTR" migrate >/dev/null
echo "fault-pass-phrase" | "$OTTR" user create --email editor@fault.test --role editor --password-stdin >/dev/null

port_of() { # waits for "<name> listening on host:port" in a log, prints the port
  for _ in $(seq 1 100); do
    line=$(grep -m1 "$1 listening on" "$2" 2>/dev/null) && { echo "${line##*:}"; return; }
    sleep 0.1
  done
  echo "no $1 port in $2" >&2; exit 1
}
start() { # name log [env…]
  local name=$1 log=$2; shift 2
  env "$@" OTTR__MEDIA__WORK_DIR="$WORK/work-$RANDOM" "$OTTR" serve "$name" >"$log" 2>&1 &
  pids+=($!)
}

start auth "$WORK/auth.log"
AUTH=$(port_of auth "$WORK/auth.log")
export OTTR__TOKENS__AUTH_URL="http://127.0.0.1:$AUTH"
start media "$WORK/media-a.log"
MEDIA_A_PID=${pids[-1]}
MEDIA=$(port_of media "$WORK/media-a.log")
start edge "$WORK/edge.log" OTTR__EDGE__AUTH_URL="http://127.0.0.1:$AUTH" OTTR__EDGE__MEDIA_URL="http://127.0.0.1:$MEDIA"
EDGE=$(port_of edge "$WORK/edge.log")

TOKEN=$(curl -sf "http://127.0.0.1:$EDGE/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"editor@fault.test","password":"fault-pass-phrase"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
ffmpeg -v error -y -f lavfi -i testsrc2=size=1920x1080:rate=30:duration=30 -f lavfi -i sine=duration=30 -shortest \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac "$WORK/source.mp4"
UPLOAD=$(curl -sf "http://127.0.0.1:$EDGE/api/v1/uploads/file" -H "authorization: Bearer $TOKEN" -F "file=@$WORK/source.mp4")
JOB=$(echo "$UPLOAD" | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
ASSET=$(echo "$UPLOAD" | python3 -c 'import json,sys; print(json.load(sys.stdin)["asset_id"])')
say "job $JOB queued; killing media at about 50%"

# Follow the job's SSE stream until it passes 50%, then kill -9 the only worker.
timeout 300 curl -sN "http://127.0.0.1:$EDGE/api/v1/jobs/$JOB/events?access_token=$TOKEN" | while read -r line; do
  percent=$(echo "$line" | sed -n 's/^data: .*"percent":\([0-9.]*\).*/\1/p')
  [ -n "$percent" ] && echo "$percent" >> "$WORK/seen"
  if [ -n "$percent" ] && python3 -c "import sys; sys.exit(0 if float('$percent') >= 50 else 1)"; then
    kill -9 "$MEDIA_A_PID"; echo "killed at ${percent}%" > "$WORK/killed"; break
  fi
done || true # curl ends with a broken pipe once the loop stops reading
[ -e "$WORK/killed" ] || { echo "kill-media: FAILED: never reached 50%"; exit 1; }
KILLED_AT=$(date +%s)

# A second media process takes the job over once the lease runs out.
start media "$WORK/media-b.log"
port_of media "$WORK/media-b.log" >/dev/null
for _ in $(seq 1 240); do
  STATE=$(psql "$OTTR__DATABASE__URL" -tAc "SELECT state || ' ' || attempt FROM media.jobs WHERE id = '$JOB'")
  case "$STATE" in ready*|failed*) break ;; esac
  sleep 0.5
done
RECOVERED=$(( $(date +%s) - KILLED_AT ))
READY=$(psql "$OTTR__DATABASE__URL" -tAc "SELECT count(*) FROM media.assets WHERE id = '$ASSET' AND state = 'ready' AND ready_at IS NOT NULL")
# The killed attempt's folders are gone entirely when nothing of it is left.
LEFT=$( (find "$WORK/objects/hls/$ASSET/1" "$WORK/objects/images/$ASSET/1" -type f 2>/dev/null || true) | wc -l)
SUMMARY="kill-media: $(cat "$WORK/killed"); job $STATE after ${RECOVERED}s; ready assets $READY; objects left of the killed attempt $LEFT"
if [ "$STATE" = "ready 2" ] && [ "$READY" = 1 ] && [ "$LEFT" = 0 ] && [ "$RECOVERED" -le 120 ]; then
  echo "$SUMMARY: 1 passed, 0 failed"
else
  echo "$SUMMARY: 0 passed, 1 failed"
  exit 1
fi
