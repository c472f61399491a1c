#!/usr/bin/env bash
# Makes this Debian/Ubuntu machine ready to build, run and test ottr. Idempotent: what is
# already installed or running is left alone, so a second run takes a second or two.
source "$(dirname "$0")/lib.sh"
prepare_machine
say "machine ready: ffmpeg $(ffmpeg -version | head -n1 | cut -d' ' -f3), PostgreSQL and Redis answering"
