"""Fault test: Redis stopped during catalog load. Browsing over the edge's REST API at a
fixed rate must not fail a single request while the cache is gone, and once Redis is
back the catalog must fill it again (without restarting any service)."""

import random
import time

from harness import Load, RedisServer, Stack, log, request, verdict

RATE, SECONDS, STOP_AT, BACK_AT = 100, 24, 6, 14

with Stack("redis-stop") as stack:
    redis = RedisServer(stack.work)
    redis.start()
    stack.env["OTTR__REDIS__URL"] = redis.url
    stack.start_all()
    token = stack.login()
    ids = stack.publish_titles(token, 20)
    prefix = f"{stack.db}:"

    def browse():
        if random.random() < 0.8:
            status, body = request("GET", f"{stack.edge}/api/v1/titles/{random.choice(ids)}")
        else:
            status, body = request("GET", f"{stack.edge}/api/v1/titles?page_size=10")
        return status == 200, status

    log(f"catalog load at {RATE} req/s for {SECONDS} s; Redis killed at {STOP_AT} s, back at {BACK_AT} s")
    with Load(browse, RATE) as load:
        time.sleep(STOP_AT)
        cached_before = len(redis.keys(prefix))
        redis.kill()
        time.sleep(BACK_AT - STOP_AT)
        redis.start()  # empty: it keeps nothing on disk
        time.sleep(SECONDS - BACK_AT)
    cached_after = len(redis.keys(prefix))
    alive = all(s.alive() for s in stack.services.values())
    failures = load.failures()
    redis.kill()

held = not failures and cached_before > 0 and cached_after > 0 and alive
summary = (
    f"{len(load.results)} requests, {len(failures)} failed"
    + (f" (first: {failures[0]})" if failures else "")
    + f"; cache keys before the stop {cached_before}, refilled after the restart {cached_after}"
    + f"; services alive {alive}"
)
verdict("redis-stop", held, summary)
