#!/usr/bin/env bash
# A second ffmpeg for bench/quality's measures, from PyPI: imageio-ffmpeg 0.8.1 ships a
# static ffmpeg 9.0.2 built with libvmaf (Debian's ffmpeg has none) and current SVT-AV1
# and x265, for the other encoders the bench can compare. Fetched once into
# .data/tools/, written under a temporary name and moved into place; prints its path.
# Only the benchmark uses it: ottr itself, and the seed and ottr sides of the bench,
# encode with the system's ffmpeg.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.data/tools
bin="$dir/ffmpeg-9.0.2"
if [ ! -x "$bin" ]; then
  mkdir -p "$dir/pkg"
  python3 -m pip --version >/dev/null 2>&1 || apt-get install -y -qq python3-pip >/dev/null
  wheel=imageio_ffmpeg-0.8.1-py3-none-manylinux_2_28_x86_64.whl
  [ -s "$dir/pkg/$wheel" ] || python3 -m pip download --quiet --no-deps --only-binary :all: \
    --platform manylinux_2_28_x86_64 imageio-ffmpeg==0.8.1 -d "$dir/pkg" >&2
  python3 - "$dir/pkg/$wheel" "$bin" <<'PY'
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as whl:
    open(out + ".tmp", "wb").write(whl.read("imageio_ffmpeg/binaries/ffmpeg-linux-x86_64-v9.0.2"))
os.chmod(out + ".tmp", 0o755)
os.replace(out + ".tmp", out)
PY
fi
echo "$(pwd)/$bin"
