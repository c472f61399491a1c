"""Fault test: kill -9 of the media process at about 50% of a transcode. A second media
process (same database and storage) must complete the job exactly once within the lease,
with no object of the killed attempt left and the asset ready once."""

import json
import os
import signal
import time
import urllib.request

from harness import Stack, log, psql, verdict

RECOVERY_LIMIT = 120

with Stack("kill-media", {"OTTR__MEDIA__WORKER__LEASE_SECS": "10", "OTTR__MEDIA__WORKER__HEARTBEAT_SECS": "2",
                          "OTTR__MEDIA__VIDEO__PRESET": "medium"}) as stack:
    stack.start_all()
    token = stack.login()
    asset, job = stack.upload(token, stack.make_source(30, size="1920x1080"))
    log(f"job {job} queued; killing media at about 50%")

    # Follow the job's progress stream (SSE) until it passes 50%, then kill -9 the only worker.
    killed_at_percent = None
    events = urllib.request.urlopen(f"{stack.edge}/api/v1/jobs/{job}/events?access_token={token}", timeout=300)
    for raw in events:
        line = raw.decode().strip()
        if line.startswith("data:"):
            percent = json.loads(line[5:]).get("percent", 0)
            if percent >= 50:
                stack.services["media"].stop(signal.SIGKILL)
                killed_at_percent = percent
                break
    events.close()
    killed_at = time.monotonic()

    # A second media process takes the job over once the lease runs out.
    stack.start("media", key="media-b")
    state, attempt = stack.wait_for_job(job, timeout=240)
    recovered = time.monotonic() - killed_at
    ready = psql(stack.db_url, f"SELECT count(*) FROM media.assets WHERE id = '{asset}' AND state = 'ready' AND ready_at IS NOT NULL")
    left = sum(len(files) for root in ("hls", "images")
               for _, _, files in os.walk(os.path.join(stack.work, "objects", root, asset, "1")))

held = killed_at_percent is not None and (state, attempt) == ("ready", 2) and ready == "1" and left == 0 \
    and recovered <= RECOVERY_LIMIT
summary = (f"killed at {killed_at_percent or 0:.1f}%; job {state} attempt {attempt} after {recovered:.0f} s; ready assets {ready}; "
           f"objects left of the killed attempt {left}")
verdict("kill-media", held, summary)
