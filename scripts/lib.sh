# Shared helpers for ottr's scripts. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PGURL_ADMIN="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages that are missing, and only those.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

start_postgres() {
  postgres_up && return 0
  say "starting PostgreSQL"
  local version
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 50); do postgres_up && return 0; sleep 0.2; done
  echo "PostgreSQL did not start" >&2
  return 1
}

start_redis() {
  redis_up && return 0
  say "starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ottr.log
  for _ in $(seq 1 50); do redis_up && return 0; sleep 0.2; done
  echo "Redis did not start" >&2
  return 1
}

# ottr connects as postgres/postgres over TCP. Where the server trusts local connections
# the password is ignored; where it asks for one (Debian's default), set it once.
ensure_postgres_login() {
  psql "$PGURL_ADMIN" -qtAc 'SELECT 1' >/dev/null 2>&1 && return 0
  say "setting the postgres user's password for local TCP connections"
  as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
  psql "$PGURL_ADMIN" -qtAc 'SELECT 1' >/dev/null
}

# The web app's npm packages (hls.js, tus-js-client; playwright-core for the browser
# test), installed again only when package-lock.json changed.
npm_packages() {
  command -v npm >/dev/null || apt_install nodejs npm
  if [ ! -e "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    say "installing npm packages"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# Everything the platform and its tests need on this machine, installed and running.
prepare_machine() {
  command -v cargo >/dev/null || { echo "cargo is missing: install Rust 1.95 (rustup) first" >&2; exit 1; }
  apt_install ffmpeg postgresql postgresql-client redis-server redis-tools ca-certificates gcc chromium
  start_postgres
  start_redis
  ensure_postgres_login
  npm_packages
}

# The binaries the fault tests drive as real processes: ottr itself and s3-server (s3s-fs,
# a real S3-compatible server on a folder, from the dev-only testkit crate), in one debug build.
fault_binaries() {
  say "building ottr and the S3 test server"
  (cd "$ROOT" && cargo build --quiet -p ottr-cli --bin ottr -p ottr-testkit --bin s3-server)
}

# schemathesis (PyPI) in a virtualenv under target/tools, for the OpenAPI fault test.
SCHEMATHESIS="$ROOT/target/tools/schemathesis/bin/schemathesis"
export SCHEMATHESIS
schemathesis_tool() {
  "$SCHEMATHESIS" --version 2>/dev/null | grep -q 4.32.5 && return 0
  python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
  say "installing schemathesis 4.32.5 into target/tools"
  python3 -m venv "$ROOT/target/tools/schemathesis"
  "$ROOT/target/tools/schemathesis/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
}
