"""Fault test: object storage unavailable for 30 s during a transcode. The S3 server
(s3s-fs, a real S3-compatible server) is killed once the asset is playable, while
segments are still being uploaded, and comes back 30 s later. The job must be retried
to completion, and the asset must not be marked ready unless every object its playlists
name is in storage; nothing of a failed attempt may be left behind, and while the job
waits for its retry no player may be sent to the failed attempt's playlists."""

import os
import time

from harness import S3Server, Stack, log, psql, verdict

OUTAGE = 30


def missing_objects(s3_dir, master_key):
    """Keys named by the master and its variant playlists that are not in storage."""
    bucket = os.path.join(s3_dir, "ottr")
    base = master_key.rsplit("/", 1)[0]
    missing, playlists = [], []
    with open(os.path.join(bucket, master_key)) as master:
        playlists = [line.strip() for line in master if line.strip() and not line.startswith("#")]
    for playlist in playlists:
        path = os.path.join(bucket, base, playlist)
        if not os.path.isfile(path):
            missing.append(playlist)
            continue
        folder = os.path.dirname(playlist)
        for line in open(path):
            line = line.strip()
            uri = line.split('URI="', 1)[1].split('"')[0] if line.startswith("#EXT-X-MAP") else line
            if uri and not uri.startswith("#"):
                key = os.path.join(base, folder, uri)
                if not os.path.isfile(os.path.join(bucket, key)) or os.path.getsize(os.path.join(bucket, key)) == 0:
                    missing.append(key)
    return missing


with Stack("storage-outage") as stack:
    s3 = S3Server(stack.work)
    s3.start()
    stack.env.update({
        **s3.media_env(),
        "OTTR__MEDIA__WORKER__LEASE_SECS": "10",
        "OTTR__MEDIA__WORKER__HEARTBEAT_SECS": "2",
    })
    stack.start_all()
    token = stack.login()
    source = stack.make_source(30, size="1920x1080")
    asset, job = stack.upload(token, source)
    log(f"job {job} queued; storage goes away for {OUTAGE} s once the asset is playable")
    for _ in range(600):
        if psql(stack.db_url, f"SELECT playable_at IS NOT NULL FROM media.assets WHERE id = '{asset}'") == "t":
            break
        time.sleep(0.1)
    state_at_kill, attempt_at_kill = stack.job(job)
    s3.kill()
    # While the job waits to be retried, the failed attempt's master (whose objects may
    # be gone) must not be offered to players.
    offered_while_retrying = set()
    outage_ends = time.monotonic() + OUTAGE
    while time.monotonic() < outage_ends:
        row = psql(stack.db_url, f"SELECT j.state || '|' || coalesce(a.master_key, '') FROM media.jobs j "
                                 f"JOIN media.assets a ON a.id = j.asset_id WHERE j.id = '{job}'")
        state, master = row.split("|")
        if state == "queued" and master:
            offered_while_retrying.add(master)
        time.sleep(0.5)
    s3.start()
    state, attempt = stack.wait_for_job(job, timeout=300)
    master_key = psql(stack.db_url, f"SELECT coalesce(master_key, '') FROM media.assets WHERE id = '{asset}'")
    asset_state = psql(stack.db_url, f"SELECT state FROM media.assets WHERE id = '{asset}'")
    missing = missing_objects(s3.dir, master_key) if asset_state == "ready" else []
    hls_root = os.path.join(s3.dir, "ottr", "hls", asset)
    # S3 has no folders: an attempt is left behind when any object remains under its
    # prefix (s3s-fs keeps the emptied directories, which are not objects).
    attempts_left = sorted(a for a in (os.listdir(hls_root) if os.path.isdir(hls_root) else [])
                           if any(files for _, _, files in os.walk(os.path.join(hls_root, a))))
    s3.kill()

held = (state == "ready" and asset_state == "ready" and not missing and attempts_left == [str(attempt)]
        and not offered_while_retrying)
summary = (
    f"storage killed at job {state_at_kill} attempt {attempt_at_kill} (asset playable), back after {OUTAGE} s; "
    f"job {state} after attempt {attempt}; asset {asset_state}; objects named by its playlists missing {len(missing)}"
    f"; attempts with objects left {attempts_left}; failed attempt's master offered while retrying "
    f"{bool(offered_while_retrying)}"
)
verdict("storage-outage", held, summary)
