#!/usr/bin/env bash
# Installs what is missing, builds ottr, and runs the whole platform on embedded
# defaults: the local PostgreSQL and Redis. The first run creates an admin account and
# prints its password once.
source "$(dirname "$0")/lib.sh"
prepare_machine
cd "$ROOT"
say "building ottr"
cargo build --release -p ottr-cli --bin ottr
OTTR="$ROOT/target/release/ottr"
say "starting ottr (Ctrl-C to stop); the first run prints the admin's password once"
exec "$OTTR" up
