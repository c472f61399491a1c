#!/usr/bin/env bash
# Fuzzes what ottr parses from outside (cargo-fuzz, libFuzzer): ffprobe JSON, HLS
# playlists, access and playback tokens, tus upload headers. Each target runs for
# FUZZ_SECONDS (60); a crash leaves its input under fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh                 every target
#   scripts/fuzz.sh tokens playlist the named ones
#
# Rust 1.95 is a stable toolchain: cargo-fuzz's nightly-only flags are unlocked with
# RUSTC_BOOTSTRAP=1, and the sanitizer is off (-s none); coverage-guided fuzzing of
# safe Rust looks for panics, overflows, hangs and runaway memory, which needs no ASan.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(probe_json playlist tokens upload_headers)
SECONDS_EACH="${FUZZ_SECONDS:-60}"
command -v g++ >/dev/null || apt_install g++ # libFuzzer is C++
CARGO_FUZZ="$ROOT/target/tools/bin/cargo-fuzz"
if ! "$CARGO_FUZZ" --version 2>/dev/null | grep -q 0.13.1; then
  say "building cargo-fuzz 0.13.1 into target/tools"
  cargo install --quiet --locked --root "$ROOT/target/tools" cargo-fuzz --version 0.13.1
fi
# Seeds: the ffprobe fixtures the unit tests use, and one of each token shape.
mkdir -p fuzz/corpus/probe_json fuzz/corpus/tokens fuzz/corpus/playlist fuzz/corpus/upload_headers
cp crates/media/src/probe/fixtures/*.json fuzz/corpus/probe_json/
printf 'eyJhbGciOiJFZERTQSIsImtpZCI6ImZ1enoiLCJ0eXAiOiJhdCtqd3QifQ.eyJzdWIiOiJ4In0.c2ln' > fuzz/corpus/tokens/jwt
printf '0f8fad5bd9cb469fa16570867728950e.1893456000.c2lnbmF0dXJl' > fuzz/corpus/tokens/playback
printf '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-MAP:URI="init_0.mp4"\n#EXTINF:4.000,\nseg_00000.m4s\n#EXTINF:2.5,\nseg_00001.m4s\n' > fuzz/corpus/playlist/variant
printf 'upload-length: 1024\nupload-offset: 0\nupload-metadata: filename YmVuY2gubXA0,type dmlkZW8vbXA0\nupload-checksum: sha256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n' > fuzz/corpus/upload_headers/tus
export RUSTC_BOOTSTRAP=1
failed=()
for target in "${TARGETS[@]}"; do
  say "fuzzing $target for $SECONDS_EACH s"
  "$CARGO_FUZZ" run --fuzz-dir fuzz -s none "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 || failed+=("$target")
done
passed=$(( ${#TARGETS[@]} - ${#failed[@]} ))
echo "fuzz: ${#TARGETS[@]} targets, $SECONDS_EACH s each${failed:+; crashed: ${failed[*]}}: $passed passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
