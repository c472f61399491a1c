"""Shared pieces of ottr's fault tests: real `ottr serve` processes on 127.0.0.1 over a
scratch database, a fixed-rate load that records every answer, and the summary line.

Standard library only, so the fault tests need nothing beyond the machine's Python.
Each test builds a `Stack`, breaks something real, and calls `verdict`.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OTTR = os.environ.get("OTTR_BIN", os.path.join(ROOT, "target", "debug", "ottr"))
S3_SERVER = os.environ.get("S3_SERVER_BIN", os.path.join(ROOT, "target", "debug", "s3-server"))
ADMIN_URL = os.environ.get("PGURL_ADMIN", "postgres://postgres:postgres@127.0.0.1:5432/postgres")
EDITOR = ("editor@fault.test", "fault-pass-phrase")


def log(message):
    print(f"\033[1m==> {message}\033[0m", file=sys.stderr, flush=True)


def psql(url, sql):
    out = subprocess.run(["psql", url, "-qtAc", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_ready_file(path, proc, what, timeout=30):
    """The JSON a process writes (atomically: temp file, then rename) once its listeners
    are bound, as `ottr serve --ready-file` and `s3-server --ready-file` do."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                return json.load(f)
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"{what} was not ready (no {path})")


class Service:
    """One `ottr serve <name>` process, its log and the port its ready file names."""

    def __init__(self, name, env, log_path):
        self.name, self.log_path = name, log_path
        ready_path = log_path + ".ready.json"
        if os.path.exists(ready_path):
            os.remove(ready_path)
        self.log_file = open(log_path, "w")
        command = [OTTR, "serve", name, "--ready-file", ready_path]
        self.proc = subprocess.Popen(command, env=env, stdout=self.log_file, stderr=subprocess.STDOUT)
        self.port = wait_for_ready_file(ready_path, self.proc, f"{name} (see {log_path})")[name]["port"]

    def alive(self):
        return self.proc.poll() is None

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        return kib / 1024

    def stop(self, sig=signal.SIGTERM):
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log_file.close()


class Stack:
    """A scratch database and the four services as separate processes."""

    def __init__(self, name, env=None, admin_url=ADMIN_URL):
        self.work = tempfile.mkdtemp(prefix=f"ottr-{name}-")
        self.admin_url = admin_url
        self.db = f"ottr_fault_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        self.db_url = admin_url.rsplit("/", 1)[0] + "/" + self.db
        self.env = dict(os.environ)
        self.env.update(
            {
                "OTTR__DATABASE__URL": self.db_url,
                "OTTR__REDIS__KEY_PREFIX": f"{self.db}:",
                "OTTR__MEDIA__STORAGE__LOCAL_ROOT": os.path.join(self.work, "objects"),
                "OTTR__MEDIA__WORK_DIR": os.path.join(self.work, "media-work"),
                # The edge refuses to start without a real secret; any 32 random bytes do here.
                "OTTR__EDGE__PLAYBACK__SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
                "RUST_LOG": os.environ.get("RUST_LOG", "warn"),
            }
        )
        for service in ("auth", "catalog", "media", "edge"):
            self.env[f"OTTR__{service.upper()}__LISTEN__PORT"] = "0"
        self.env.update(env or {})
        self.services = {}

    def __enter__(self):
        subprocess.run([OTTR, "migrate"], env=self.env, check=True, stdout=subprocess.DEVNULL)
        create = [OTTR, "user", "create", "--email", EDITOR[0], "--role", "editor", "--password-stdin"]
        subprocess.run(create, env=self.env, input=EDITOR[1], text=True, check=True, stdout=subprocess.DEVNULL)
        return self

    def __exit__(self, *_):
        for service in self.services.values():
            service.stop(signal.SIGKILL)
        subprocess.run(["psql", self.admin_url, "-qc", f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)"], capture_output=True)
        if os.environ.get("KEEP_WORK") == "1":
            log(f"work kept in {self.work}")
        else:
            subprocess.run(["rm", "-rf", self.work])

    def start(self, name, key=None, env=None):
        """Starts a service; auth first, since the others verify tokens against it."""
        merged = dict(self.env)
        if "auth" in self.services:
            merged["OTTR__TOKENS__AUTH_URL"] = f"http://127.0.0.1:{self.services['auth'].port}"
        if name == "edge":
            for upstream in ("auth", "catalog", "media"):
                if upstream in self.services:
                    merged[f"OTTR__EDGE__{upstream.upper()}_URL"] = f"http://127.0.0.1:{self.services[upstream].port}"
        merged.update(env or {})
        key = key or name
        self.services[key] = Service(name, merged, os.path.join(self.work, f"{key}.log"))
        return self.services[key]

    def start_all(self):
        for name in ("auth", "catalog", "media", "edge"):
            self.start(name)
        return self

    @property
    def edge(self):
        return f"http://127.0.0.1:{self.services['edge'].port}"

    def login(self):
        status, body = request("POST", f"{self.edge}/api/v1/auth/login", body={"email": EDITOR[0], "password": EDITOR[1]})
        assert status == 200, f"login answered {status}: {body}"
        return body["access_token"]

    def publish_titles(self, token, count):
        """Creates and publishes `count` movies through the REST API; returns their ids."""
        ids = []
        for i in range(count):
            body = {"kind": "movie", "slug": f"fault-{i}", "title": f"Fault title {i}", "synopsis": "A film", "genres": ["drama"]}
            status, title = request("POST", f"{self.edge}/api/v1/titles", token, body)
            assert status in (200, 201), f"creating a title answered {status}: {title}"
            status, _ = request("PUT", f"{self.edge}/api/v1/titles/{title['id']}/visibility", token, {"visibility": "published"})
            assert status == 200, f"publishing answered {status}"
            ids.append(title["id"])
        return ids

    def make_source(self, seconds, size="1280x720"):
        path = os.path.join(self.work, "source.mp4")
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
             "-f", "lavfi", "-i", f"sine=duration={seconds}", "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
             "-pix_fmt", "yuv420p", "-c:a", "aac", path],
            check=True,
        )
        return path

    def upload(self, token, path):
        """Uploads a file through the edge's multipart route; returns (asset_id, job_id)."""
        out = subprocess.run(
            ["curl", "-sf", f"{self.edge}/api/v1/uploads/file", "-H", f"authorization: Bearer {token}", "-F", f"file=@{path}"],
            check=True, capture_output=True, text=True,
        )
        answer = json.loads(out.stdout)
        return answer["asset_id"], answer["job_id"]

    def job(self, job_id):
        """(state, attempt, percent) of a job, straight from the queue's table."""
        row = psql(self.db_url, f"SELECT state || '|' || attempt FROM media.jobs WHERE id = '{job_id}'")
        state, attempt = row.split("|")
        return state, int(attempt)

    def wait_for_job(self, job_id, timeout, done=("ready", "failed")):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state, attempt = self.job(job_id)
            if state in done:
                return state, attempt
            time.sleep(0.5)
        return self.job(job_id)


class RedisServer:
    """A Redis of the test's own on a free port, so stopping it disturbs nothing else."""

    def __init__(self, work):
        self.port, self.work = free_port(), work
        self.url = f"redis://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", self.work, "--logfile", os.path.join(self.work, "redis.log")]
        self.proc = subprocess.Popen(cmd)
        for _ in range(100):
            if self.cli("ping") == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("the test's Redis did not start")

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def cli(self, *args):
        out = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True)
        return out.stdout.strip()

    def keys(self, prefix):
        return [k for k in self.cli("--scan", "--pattern", f"{prefix}*").splitlines() if k]


class S3Server:
    """A real S3-compatible server (s3s-fs, which checks SigV4) on the test's own folder and
    port, as a process a test can kill and start again. Objects land at <dir>/<bucket>/<key>."""

    ACCESS, SECRET, BUCKET = "fault", "fault-secret-key", "ottr"

    def __init__(self, work):
        self.port, self.dir = free_port(), os.path.join(work, "s3")
        os.makedirs(os.path.join(self.dir, self.BUCKET), exist_ok=True)
        self.log = open(os.path.join(work, "s3.log"), "a")
        self.proc = None

    def start(self):
        env = dict(os.environ, S3_ACCESS_KEY=self.ACCESS, S3_SECRET_KEY=self.SECRET)
        ready_path = os.path.join(os.path.dirname(self.dir), "s3.ready.json")
        if os.path.exists(ready_path):
            os.remove(ready_path)
        command = [S3_SERVER, self.dir, str(self.port), "--ready-file", ready_path]
        self.proc = subprocess.Popen(command, env=env, stdout=self.log, stderr=self.log)
        wait_for_ready_file(ready_path, self.proc, "the S3 server")
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def media_env(self):
        """Configuration that points media's storage at this server."""
        return {
            "OTTR__MEDIA__STORAGE__BACKEND": "s3",
            "OTTR__MEDIA__STORAGE__S3__ENDPOINT": self.endpoint,
            "OTTR__MEDIA__STORAGE__S3__BUCKET": self.BUCKET,
            "OTTR__MEDIA__STORAGE__S3__ACCESS_KEY": self.ACCESS,
            "OTTR__MEDIA__STORAGE__S3__SECRET_KEY": self.SECRET,
            "OTTR__MEDIA__STORAGE__S3__PATH_STYLE": "true",
        }


class PostgresCluster:
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder, trust auth on
    127.0.0.1 and a free port), so restarting it disturbs nothing else on the machine."""

    def __init__(self):
        versions = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(p) for p in v.split(".")])
        self.bin = f"/usr/lib/postgresql/{versions[-1]}/bin"
        self.dir = tempfile.mkdtemp(prefix="ottr-pg-")
        self.port = free_port()
        self.admin_url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        # PostgreSQL refuses to run as root; as root, the cluster belongs to the postgres user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            subprocess.run(["chown", "postgres", self.dir], check=True)
        subprocess.run([*self.as_user, f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-U", "postgres", "-A", "trust"],
                       check=True, stdout=subprocess.DEVNULL)

    def ctl(self, *args):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        subprocess.run([*self.as_user, f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log",
                        "-o", options, "-w", *args], check=True, stdout=subprocess.DEVNULL)

    def remove(self):
        subprocess.run([*self.as_user, f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", "immediate", "stop"],
                       capture_output=True)
        subprocess.run(["rm", "-rf", self.dir])


def request(method, url, token=None, body=None, timeout=10, headers=None):
    """(status, parsed JSON or raw bytes); status 0 when no answer came at all."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (urllib.error.URLError, OSError):
        return 0, b""
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw


class Load:
    """Calls `call()` at a fixed rate from a pool of threads until stopped, recording
    (start time, ok, detail) of every call, so failures can be placed on the timeline."""

    def __init__(self, call, rate, threads=8):
        self.call, self.period, self.threads = call, 1.0 / rate, threads
        self.results, self._lock, self._stop = [], threading.Lock(), threading.Event()
        self._next = time.monotonic()
        self.started = time.monotonic()

    def _worker(self):
        while not self._stop.is_set():
            with self._lock:
                due, self._next = self._next, self._next + self.period
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                ok, detail = self.call()
            except Exception as error:  # a crash of the caller counts as a failed request
                ok, detail = False, repr(error)
            with self._lock:
                self.results.append((due - self.started, ok, detail))

    def __enter__(self):
        self._pool = [threading.Thread(target=self._worker, daemon=True) for _ in range(self.threads)]
        for thread in self._pool:
            thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        for thread in self._pool:
            thread.join()

    def failures(self, after=0.0):
        return [r for r in self.results if not r[1] and r[0] >= after]


def verdict(name, promise_held, summary):
    """Prints the one summary line and exits non-zero when the promise does not hold."""
    outcome = "1 passed, 0 failed" if promise_held else "0 passed, 1 failed"
    print(f"{name}: {summary}: {outcome}", flush=True)
    sys.exit(0 if promise_held else 1)
