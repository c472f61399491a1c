"""Fault test: PostgreSQL restarted under light load. Requests that need the database
(progress writes, catalog pages, profile reads) run at a steady rate while the cluster
restarts; afterwards every service must answer again from the same process, having
reconnected by itself. Requests while the database is down may fail, but only with a
clean 503 (unavailable), never another error."""

import random
import time

from harness import Load, PostgresCluster, Stack, log, request, verdict

RATE, SECONDS, RESTART_AT, DOWN, SETTLE = 20, 25, 6, 3, 5

cluster = PostgresCluster()
cluster.ctl("start")
try:
    with Stack("pg-restart", admin_url=cluster.admin_url) as stack:
        stack.start_all()
        pids = {name: s.proc.pid for name, s in stack.services.items()}
        token = stack.login()
        ids = stack.publish_titles(token, 5)
        status, profile = request("POST", f"{stack.edge}/api/v1/profiles", token, {"name": "Fault"})
        assert status in (200, 201), f"creating a profile answered {status}: {profile}"
        progress_url = f"{stack.edge}/api/v1/profiles/{profile['id']}/progress"

        def light_load():
            pick = random.random()
            if pick < 0.5:
                body = {"title_id": random.choice(ids), "position_secs": random.uniform(1, 50), "duration_secs": 100}
                status, _ = request("PUT", progress_url, token, body)
            elif pick < 0.8:
                status, _ = request("GET", f"{stack.edge}/api/v1/profiles/{profile['id']}/history", token)
            else:
                status, _ = request("GET", f"{stack.edge}/api/v1/profiles", token)
            return status == 200, status

        log(f"light load at {RATE} req/s for {SECONDS} s; PostgreSQL stopped at {RESTART_AT} s for {DOWN} s")
        with Load(light_load, RATE, threads=4) as load:
            time.sleep(RESTART_AT)
            began = time.monotonic() - load.started
            cluster.ctl("-m", "fast", "stop")  # every connection is closed
            time.sleep(DOWN)  # as a failover or an upgrade would leave it down for a while
            cluster.ctl("start")
            back = time.monotonic() - load.started
            time.sleep(SECONDS - back)
        same = all(s.alive() and s.proc.pid == pids[n] for n, s in stack.services.items())
        during = [f for f in load.failures() if f[0] < back + SETTLE]
        after = load.failures(after=back + SETTLE)
        unclean = sorted({f[2] for f in during if f[2] not in (503,)})
        served_after = sum(1 for r in load.results if r[0] >= back + SETTLE and r[1])
finally:
    cluster.remove()

held = same and not after and served_after > 0 and not unclean
summary = (
    f"database down for {back - began:.1f} s; {len(load.results)} requests; {len(during)} failed around the restart"
    + (f" (answers other than 503: {unclean})" if unclean else " (all 503)" if during else "")
    + f"; {len(after)} failed from {SETTLE} s after it, {served_after} served; same processes {same}"
)
verdict("pg-restart", held, summary)
