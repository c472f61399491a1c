"""Fault test: kill -9 of the media process while it is sending a webhook. A receiver on
127.0.0.1 answers the first request and holds the second unanswered; once the first is
recorded as delivered, media is killed, and a second media process takes the deliveries
over once their claims lapse. Every event must be delivered, each under its own id; the
one cut off is sent again; one the killed process had recorded as delivered is never sent
again; none is sent more than twice."""

import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import Stack, free_port, log, psql, request, verdict

EVENTS = 3
received = []  # webhook-id of every request, in order of arrival
arrivals = threading.Lock()  # a batch's requests arrive at once, on threads of their own
held_arrived = threading.Event()
release = threading.Event()
held_id = []


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with arrivals:
            received.append(self.headers.get("webhook-id", ""))
            held = len(received) == 2
            if held:
                held_id.append(received[-1])
        if held:
            held_arrived.set()
            release.wait(60)  # never answered while its sender lives
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_):
        pass


port = free_port()
server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()

settings = {
    "OTTR__MEDIA__WEBHOOKS__ALLOW_HTTP": "true",
    "OTTR__MEDIA__WEBHOOKS__ALLOW_PRIVATE": "true",
    "OTTR__MEDIA__WEBHOOKS__LEASE_SECS": "5",
    "OTTR__MEDIA__WEBHOOKS__TIMEOUT_SECS": "3",
    "OTTR__MEDIA__WEBHOOKS__POLL_MS": "100",
    "OTTR__MEDIA__WEBHOOKS__RETRY_BASE_MS": "500",
}
with Stack("kill-sender", settings) as stack:
    stack.start_all()
    token = stack.login()
    hook = {"url": f"http://127.0.0.1:{port}/hook", "events": ["title.published"]}
    status, created = request("POST", f"{stack.edge}/api/v1/webhooks", token, hook)
    assert status == 201, f"registering the receiver answered {status}: {created}"
    stack.publish_titles(token, EVENTS)
    arrived = held_arrived.wait(30)
    delivered_sql = "SELECT count(*) FROM webhooks.deliveries WHERE state = 'delivered'"
    deadline = time.monotonic() + 10
    while psql(stack.db_url, delivered_sql) == "0" and time.monotonic() < deadline:
        time.sleep(0.05)  # the answered one is being recorded
    stack.services["media"].stop(signal.SIGKILL)
    # What the killed process recorded as delivered must never be sent again.
    recorded = psql(stack.db_url, "SELECT coalesce(string_agg(e.id::text, ','), '') FROM webhooks.deliveries d "
                                  "JOIN webhooks.events e ON e.id = d.event_id WHERE d.state = 'delivered'")
    recorded = [i for i in recorded.split(",") if i]
    log(f"media killed with a send in flight (held request arrived: {arrived}; {len(recorded)} recorded delivered)")
    release.set()  # the cut-off request's answer goes nowhere now

    stack.start("media", key="media-b")
    deadline = time.monotonic() + 60
    delivered = "0"
    while time.monotonic() < deadline:
        delivered = psql(stack.db_url, delivered_sql)
        if delivered == str(EVENTS):
            break
        time.sleep(0.5)
    time.sleep(8)  # past a lapsed claim (5 s) and a retry: anything sent again arrives now
    events = psql(stack.db_url, "SELECT count(*) FROM webhooks.events")

ids = set(received)
per_id = [received.count(i) for i in ids]
cut_off = received.count(held_id[0]) if held_id else 0
held = arrived and delivered == str(EVENTS) and events == str(EVENTS) and len(ids) == EVENTS \
    and cut_off == 2 and all(1 <= n <= 2 for n in per_id) \
    and len(recorded) >= 1 and all(received.count(i) == 1 for i in recorded)
verdict("kill-sender", held,
        f"{events} events, {delivered} delivered; {len(received)} requests for {len(ids)} ids "
        f"(the cut-off one sent {cut_off} times, each at most twice; "
        f"{len(recorded)} recorded before the kill, each sent once)")
