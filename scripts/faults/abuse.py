"""Fault test: abuse resistance of sign-in, registration and refresh, through the edge's
REST API against real `ottr serve` processes. Four promises:

- parallel guesses: 30 wrong passwords for one account sent at the same moment reach the
  password check at most 10 times (the limit), and then the right password is refused too;
- registration flood: 200 registrations at the same moment are all answered, none with a
  5xx or a dropped connection, and auth's peak RSS (VmHWM) stays within 256 MiB;
- refresh pairs: 20 sessions, each refreshed twice at the same moment with the same token
  (two tabs), all stay signed in: both answers work and both new tokens refresh again;
- bystander: 60 failed sign-ins from one client address (X-Forwarded-For from this
  loopback peer, which the edge trusts by default) do not stop another address's correct
  sign-in on the same edge: the edge passes the caller's address on to auth.
"""

import threading
from collections import Counter

from harness import Stack, log, request, verdict

PASSWORD = "abuse-pass-phrase"
RSS_GOAL_MIB = 256
GUESSES, ACCOUNT_LIMIT, FLOOD, PAIRS, SPRAY = 30, 10, 200, 20, 60


def at_once(calls):
    """Runs every call on its own thread, all released by one barrier; answers in order."""
    barrier, answers = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, call):
        barrier.wait()
        answers[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def vmhwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


# Every registration of the flood comes from this one address: the per-address limits (of
# auth's registrations and of the edge's auth routes, each tested in its crate's own tests)
# are raised here so the flood reaches the hashing bound instead of stopping at 20.
ENV = {"OTTR__AUTH__THROTTLE__MAX_REGISTRATIONS_PER_ADDRESS": "1000", "OTTR__EDGE__LIMITS__AUTH_BURST": "1000"}

with Stack("abuse", env=ENV) as stack:
    stack.start_all()
    edge, auth = stack.edge, stack.services["auth"]

    def register(email, timeout=10):
        return request("POST", f"{edge}/api/v1/auth/register", body={"email": email, "password": PASSWORD},
                       timeout=timeout)

    def login(email, password, address=None):
        headers = {"x-forwarded-for": address} if address else None
        return request("POST", f"{edge}/api/v1/auth/login", body={"email": email, "password": password},
                       headers=headers)

    def refresh(token):
        return request("POST", f"{edge}/api/v1/auth/refresh", body={"refresh_token": token})

    log(f"parallel guesses: {GUESSES} wrong passwords for one account at once (limit {ACCOUNT_LIMIT})")
    assert register("race@abuse.test")[0] == 200
    guesses = Counter(s for s, _ in at_once([lambda: login("race@abuse.test", "wrong password")] * GUESSES))
    right = login("race@abuse.test", PASSWORD)[0]
    race_ok = guesses[401] <= ACCOUNT_LIMIT and guesses[401] + guesses[429] == GUESSES and right == 429

    log(f"registration flood: {FLOOD} registrations at once")
    rss_before = auth.rss_mib()
    flood = at_once([lambda i=i: register(f"flood{i}@abuse.test", timeout=60) for i in range(FLOOD)])
    statuses = Counter(s for s, _ in flood)
    codes = Counter(b.get("code", "?") for s, b in flood if s != 200 and isinstance(b, dict))
    peak = vmhwm_mib(auth.proc.pid)
    flood_ok = statuses[0] == 0 and not any(s >= 500 for s in statuses) and peak <= RSS_GOAL_MIB and auth.alive()

    log(f"refresh pairs: {PAIRS} sessions, each refreshed twice at the same moment")
    assert register("pairs@abuse.test")[0] == 200
    sessions = [login("pairs@abuse.test", PASSWORD)[1]["refresh_token"] for _ in range(PAIRS)]
    firsts = at_once([lambda t=t: refresh(t) for t in sessions for _ in range(2)])
    renewed = [b["refresh_token"] for s, b in firsts if s == 200]
    seconds = [refresh(t)[0] for t in renewed]
    signed_out = sum(1 for i in range(PAIRS) if {firsts[2 * i][0], firsts[2 * i + 1][0]} != {200})
    pairs_ok = signed_out == 0 and len(renewed) == 2 * PAIRS and all(s == 200 for s in seconds)

    log(f"bystander: {SPRAY} failed sign-ins from one address, then another address signs in")
    assert register("bystander@abuse.test")[0] == 200
    spray = Counter(login(f"spray{i}@abuse.test", "wrong password", "198.51.100.66")[0] for i in range(SPRAY))
    bystander = login("bystander@abuse.test", PASSWORD, "198.51.100.77")[0]
    bystander_ok = bystander == 200
    alive = all(s.alive() for s in stack.services.values())

held = race_ok and flood_ok and pairs_ok and alive and bystander_ok
summary = (
    f"guesses: {guesses[401]} reached the password check of {GUESSES} (limit {ACCOUNT_LIMIT}), "
    f"{guesses[429]} throttled, right password then {right}"
    f"; flood: {FLOOD} registrations answered {dict(sorted(statuses.items()))} {dict(codes)}, "
    f"auth RSS {rss_before:.0f} MiB before, peak {peak:.0f} MiB (goal <= {RSS_GOAL_MIB})"
    f"; refresh pairs: {signed_out} of {PAIRS} signed out, {seconds.count(200)}/{len(renewed)} renewed tokens refresh again"
    f"; bystander after {dict(spray)} from one address: {bystander} ({'held' if bystander_ok else 'FAILED'})"
    f"; services alive {alive}"
)
verdict("abuse", held, summary)
