# syntax=docker/dockerfile:1
# One image per service: docker build --build-arg SERVICE=song-producer .
#
# Stage 1 plans and cooks the dependencies (cargo-chef), so a change to our code does
# not rebuild them; stage 2 builds the service; the runtime image is distroless: no
# shell, no package manager, a non-root user.

ARG RUST_VERSION=1.95

FROM lukemathwalker/cargo-chef:latest-rust-${RUST_VERSION}-bookworm AS chef
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
ARG SERVICE
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --recipe-path recipe.json --package "${SERVICE}"
COPY . .
RUN cargo build --release --locked --package "${SERVICE}" \
    && cp "target/release/${SERVICE}" /app/service

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=builder /app/service /usr/local/bin/service
# Certificates are mounted at /etc/superstar/certs and data at /data: from the root
# folder, the default `sqlite://data/<service>.db` lands in the data volume, the same
# relative URL that bin/up uses from the repository root.
WORKDIR /
USER nonroot
ENTRYPOINT ["/usr/local/bin/service"]
