"""Load test: a mixed soak for SOAK_SECONDS (600). Browsing, search, progress writes,
continue-watching and HLS segment fetches run at a steady rate while one upload is
transcoded in the middle of it. Every request must succeed, the transcode must end
ready, and no service's memory may keep growing: each one's median RSS over the last
minute must stay within 20% (plus 10 MiB) of its median over the second minute."""

import os
import random
import statistics
import threading
import time
import urllib.parse

from harness import Load, Stack, log, request, verdict

SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
RATE = int(os.environ.get("SOAK_RATE", "40"))
SAMPLE_EVERY = 5


def playlist_uris(url):
    status, body = request("GET", url)
    assert status == 200, f"{url} answered {status}"
    text = body.decode() if isinstance(body, bytes) else str(body)
    return [urllib.parse.urljoin(url, line) for line in text.splitlines() if line and not line.startswith("#")]


with Stack("soak") as stack:
    stack.start_all()
    token = stack.login()
    ids = stack.publish_titles(token, 20)
    status, profile = request("POST", f"{stack.edge}/api/v1/profiles", token, {"name": "Soak"})
    assert status in (200, 201), f"creating a profile answered {status}: {profile}"
    library = f"{stack.edge}/api/v1/profiles/{profile['id']}"

    # One playable title whose segments the load fetches.
    asset, job = stack.upload(token, stack.make_source(12))
    assert stack.wait_for_job(job, timeout=300)[0] == "ready", "the first asset did not get ready"
    status, title = request("GET", f"{stack.edge}/api/v1/titles/{ids[0]}")
    fields = {k: title[k] for k in ("kind", "slug", "title", "synopsis", "genres")}
    status, _ = request("PUT", f"{stack.edge}/api/v1/titles/{ids[0]}", token, {**fields, "asset_id": asset})
    assert status == 200, f"attaching the asset answered {status}"
    status, playback = request("GET", f"{stack.edge}/api/v1/titles/{ids[0]}/playback", token)
    assert status == 200, f"playback answered {status}: {playback}"
    segments = [uri for variant in playlist_uris(playback["url"]) for uri in playlist_uris(variant)]
    log(f"{len(segments)} segments to fetch; mixed load at {RATE} req/s for {SECONDS} s")

    def mixed():
        pick = random.random()
        if pick < 0.20:
            status, _ = request("GET", f"{stack.edge}/api/v1/titles?page_size=10")
        elif pick < 0.35:
            status, _ = request("GET", f"{stack.edge}/api/v1/titles/{random.choice(ids)}")
        elif pick < 0.50:
            status, _ = request("GET", f"{stack.edge}/api/v1/search?q={random.choice(['fault', 'film', 'title', 'drama'])}")
        elif pick < 0.65:
            body = {"title_id": random.choice(ids), "position_secs": random.uniform(1, 90), "duration_secs": 100}
            status, _ = request("PUT", f"{library}/progress", token, body)
        elif pick < 0.75:
            status, _ = request("GET", f"{library}/continue-watching", token)
        else:
            status, _ = request("GET", random.choice(segments))
        return status == 200, status

    rss = {name: [] for name in stack.services}
    transcode = {}

    def upload_in_the_middle():
        time.sleep(SECONDS / 3)
        second_asset, second_job = stack.upload(token, stack.make_source(20))
        transcode["state"] = stack.wait_for_job(second_job, timeout=SECONDS)[0]

    uploader = threading.Thread(target=upload_in_the_middle, daemon=True)
    with Load(mixed, RATE, threads=6) as load:
        uploader.start()
        while time.monotonic() - load.started < SECONDS:
            for name, service in stack.services.items():
                rss[name].append((time.monotonic() - load.started, service.rss_mib()))
            time.sleep(SAMPLE_EVERY)
    uploader.join(timeout=60)
    alive = all(s.alive() for s in stack.services.values())

growth = {}
for name, samples in rss.items():
    warm = statistics.median(m for t, m in samples if 60 <= t < 120) if SECONDS >= 180 else samples[0][1]
    last = statistics.median(m for t, m in samples if t >= SECONDS - 60)
    growth[name] = (warm, last, last <= warm * 1.2 + 10)
failures = load.failures()
flat = all(ok for _, _, ok in growth.values())
held = not failures and transcode.get("state") == "ready" and flat and alive
memory = ", ".join(f"{n} {w:.0f}→{l:.0f} MiB" for n, (w, l, _) in growth.items())
codes = sorted({f[2] for f in failures})
summary = (f"{len(load.results)} requests in {SECONDS} s, {len(failures)} failed{f' {codes}' if codes else ''}; "
           f"mid-soak transcode {transcode.get('state', 'unfinished')}; RSS second minute→last minute: {memory}; flat {flat}")
verdict("soak", held, summary)
