# Multi-stage: hls.js and tus-js-client from npm, ottr built with the pinned toolchain (the
# web app and those scripts inside it), and a slim runtime with ffmpeg. One image runs every service (`ottr serve <service>`) or all
# (`ottr up`).
FROM node:20-bookworm-slim AS web
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The web app and its two npm scripts are embedded in the binary at build time.
COPY --from=web /src/node_modules ./node_modules
RUN cargo build --release --bin ottr

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /srv/ottr ottr \
 && mkdir -p /srv/ottr/work && chown -R ottr /srv/ottr
COPY --from=build /src/target/release/ottr /usr/local/bin/ottr
WORKDIR /srv/ottr
USER ottr
ENV OTTR__TELEMETRY__FORMAT=json \
    OTTR__MEDIA__WORK_DIR=/srv/ottr/work
ENTRYPOINT ["ottr"]
CMD ["up"]
