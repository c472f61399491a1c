#!/usr/bin/env bash
# Installs what is missing, builds ottr, and runs the whole platform on embedded
# defaults: the local PostgreSQL and Redis. The first run creates an admin account and
# prints its password once.
source "$(dirname "$0")/lib.sh"
prepare_machine
cd "$ROOT"
say "building ottr"
cargo build --release --bin ottr
OTTR="$ROOT/target/release/ottr"
"$OTTR" migrate
DATA="${OTTR_DATA_DIR:-$ROOT/.data}"
mkdir -p "$DATA"
# The password is printed once and kept nowhere but in its argon2id hash.
if [ ! -e "$DATA/admin-created" ]; then
  say "creating the first admin (admin@ottr.local): note the password below"
  if "$OTTR" user create --email admin@ottr.local --role admin; then
    date -u > "$DATA/admin-created"
  else
    say "admin@ottr.local exists already; keeping it"
    date -u > "$DATA/admin-created"
  fi
fi
say "starting ottr (Ctrl-C to stop)"
exec "$OTTR" up
