# Multi-stage: build ottr with the pinned toolchain, run it on slim Debian with ffmpeg.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin ottr

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 ottr
COPY --from=build /src/target/release/ottr /usr/local/bin/ottr
USER ottr
ENV OTTR__TELEMETRY__FORMAT=json
ENTRYPOINT ["ottr"]
CMD ["up"]
