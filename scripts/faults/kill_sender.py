"""Fault test: kill -9 of the media process while it is sending a webhook. A receiver on
127.0.0.1 holds the first request unanswered; media is killed the moment it arrives, and a
second media process takes the deliveries over once their claims lapse. Every event must
be delivered, each under its own id; the one cut off is sent again; one the killed process
had recorded as delivered is never sent again; none is sent more than twice."""

import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import Stack, free_port, log, psql, request, verdict

EVENTS = 3
received = []  # webhook-id of every request, in order of arrival
arrivals = threading.Lock()  # a batch's requests arrive at once, on threads of their own
first_arrived = threading.Event()
release = threading.Event()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with arrivals:
            received.append(self.headers.get("webhook-id", ""))
            held = len(received) == 1
        if held:
            first_arrived.set()
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
    arrived = first_arrived.wait(30)
    stack.services["media"].stop(signal.SIGKILL)
    # What the killed process recorded as delivered must never be sent again.
    recorded = psql(stack.db_url, "SELECT coalesce(string_agg(e.id::text, ','), '') FROM webhooks.deliveries d "
                                  "JOIN webhooks.events e ON e.id = d.event_id WHERE d.state = 'delivered'")
    recorded = [i for i in recorded.split(",") if i]
    log(f"media killed with a send in flight (first request arrived: {arrived}; {len(recorded)} recorded delivered)")
    release.set()  # the cut-off request's answer goes nowhere now

    stack.start("media", key="media-b")
    deadline = time.monotonic() + 60
    delivered = "0"
    while time.monotonic() < deadline:
        delivered = psql(stack.db_url, "SELECT count(*) FROM webhooks.deliveries WHERE state = 'delivered'")
        if delivered == str(EVENTS):
            break
        time.sleep(0.5)
    time.sleep(8)  # past a lapsed claim (5 s) and a retry: anything sent again arrives now
    events = psql(stack.db_url, "SELECT count(*) FROM webhooks.events")

ids = set(received)
per_id = [received.count(i) for i in ids]
held = arrived and delivered == str(EVENTS) and events == str(EVENTS) and len(ids) == EVENTS \
    and received.count(received[0]) == 2 and all(1 <= n <= 2 for n in per_id) \
    and all(received.count(i) == 1 for i in recorded)
verdict("kill-sender", held,
        f"{events} events, {delivered} delivered; {len(received)} requests for {len(ids)} ids "
        f"(the cut-off one sent {received.count(received[0]) if received else 0} times, each at most twice; "
        f"{len(recorded)} recorded before the kill, sent once)")
