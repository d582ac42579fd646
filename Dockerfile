# Superstar's three images, from one build of the workspace.
#
#   docker compose build                                  (bin/dev_init.sh runs this)
#   docker build --target song-producer -t superstar/song-producer .
#
# Stages:
#   builder         compiles every binary once, for all three images
#   song-producer   distroless: no shell, no package manager, user 65532 (nonroot)
#   cover-designer  the same, with the cover designer
#   gateway         the official Envoy image plus gateway-config, which renders Envoy's
#                   config from the environment each time the container starts
#
# Base images are pinned by version. To pin by digest too, look the digest up where you
# can pull (`docker pull rust:1.95-bookworm`, then `docker inspect --format
# '{{index .RepoDigests 0}}' rust:1.95-bookworm`) and write the FROM line as
# `FROM rust:1.95-bookworm@sha256:<digest>`; the tag then only documents the version.
# A machine that cannot pull gets local stand-ins under these same names from
# bin/base-images.
#
# No `# syntax=` line: the Dockerfile frontend built into the engine's BuildKit is
# enough (cache mounts included), and an engine without a registry could not fetch one.

FROM rust:1.95-bookworm AS builder
# The cargo profile (`release`; bin/test's images are `dev`, the profile its tests and
# the system they start are compiled with, a fraction of the compile), and how many
# compilers run at once (cargo's default: one per core).
ARG SUPERSTAR_CARGO_PROFILE=release
ARG CARGO_BUILD_JOBS
WORKDIR /src
COPY . .
# The cache mounts keep downloaded crates and the target folder between builds, so a
# change to our code recompiles only our crates; the binaries are copied out of the
# cache into /out. gateway-config runs inside the Envoy image, whose C library is not
# this image's (the official one is built on Ubuntu), so it is linked statically:
# glibc's crt-static, with an explicit --target so that build scripts stay dynamic.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    set -eu; \
    [ -n "${CARGO_BUILD_JOBS:-}" ] || unset CARGO_BUILD_JOBS; \
    profile="${SUPERSTAR_CARGO_PROFILE:-release}"; \
    folder="$profile"; [ "$folder" != dev ] || folder=debug; \
    cargo build --profile "$profile" --locked --package song-producer --package cover-designer; \
    host="$(rustc -vV | sed -n 's/^host: //p')"; \
    RUSTFLAGS="-C target-feature=+crt-static" \
      cargo build --profile "$profile" --locked --target "$host" --package gateway-config; \
    mkdir -p /out; \
    cp "target/$folder/song-producer" "target/$folder/cover-designer" \
       "target/$host/$folder/gateway-config" /out/

# Both services: one binary at /usr/local/bin/service, run from / so that the default
# `sqlite://data/<service>.db` lands in /data, where compose mounts the data folder.
FROM gcr.io/distroless/cc-debian12:nonroot AS service
WORKDIR /
USER nonroot
ENTRYPOINT ["/usr/local/bin/service"]

FROM service AS cover-designer
COPY --from=builder /out/cover-designer /usr/local/bin/service

FROM service AS song-producer
COPY --from=builder /out/song-producer /usr/local/bin/service

FROM envoyproxy/envoy:v1.40.0 AS gateway
COPY --from=builder /out/gateway-config /usr/local/bin/gateway-config
COPY envoy/entrypoint.sh /usr/local/bin/superstar-gateway
# The studio: the web page Envoy serves itself (its routes are in envoy/envoy.yaml.j2).
COPY studio /etc/superstar/studio
# gateway-config writes the rendered config (it holds the API keys) and the descriptor
# set here at start. The container runs as the user compose names, so the folder is
# writable by any user, like /tmp.
RUN mkdir -p /etc/superstar/gateway && chmod 1777 /etc/superstar/gateway
USER envoy
ENTRYPOINT ["/usr/local/bin/superstar-gateway"]
