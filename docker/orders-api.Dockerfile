# syntax=docker/dockerfile:1
#
# Images of the Mechanica order webhooks service, built from the repository root:
#
#   docker build -f docker/orders-api.Dockerfile -t orders-api .                   # the API (+ migrate)
#   docker build -f docker/orders-api.Dockerfile --target worker -t webhook-worker .  # the SQS worker
#
# Stages: chef (cargo-chef on the Rust toolchain) -> planner (dependency recipe) -> builder
# (dependencies cooked in their own cached layer, then the workspace) -> runtime-base
# (debian:bookworm-slim, CA certificates, non-root user) -> worker / orders-api.
# SQL runs through sqlx's runtime API (no query macros), so the build needs no database and
# no SQLX_OFFLINE metadata.

FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.77
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: this layer is rebuilt when Cargo.toml/Cargo.lock change, not on every edit.
RUN cargo chef cook --release --locked --recipe-path recipe.json \
        -p orders-api -p migrations -p webhook-dispatch
COPY . .
RUN cargo build --release --locked -p orders-api -p migrations -p webhook-dispatch --bins \
 && install -D -m 0755 -t /out \
        target/release/orders-api target/release/migrate target/release/webhook-dispatch-worker

FROM debian:bookworm-slim AS runtime-base
# ca-certificates: TLS to PlanetScale, SQS and webhook endpoints. curl (no recommends) only
# serves the HEALTHCHECK: the slim image has no HTTP client and orders-api has no probe command.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 mechanica \
 && useradd --system --uid 10001 --gid mechanica --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin mechanica
ENV RUST_LOG=info
USER 10001:10001

# The webhook dispatch worker: long-polls SQS_QUEUE_URL and runs the Lambda's handler. It serves
# no HTTP, so its liveness is the process itself.
FROM runtime-base AS worker
COPY --from=builder /out/webhook-dispatch-worker /usr/local/bin/webhook-dispatch-worker
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/webhook-dispatch-worker"]

# The API and relay (the default target). `migrate` ships alongside for one-shot schema
# changes (docker run --rm -e DSN=... orders-api migrate).
FROM runtime-base AS orders-api
COPY --from=builder /out/orders-api /out/migrate /usr/local/bin/
# The pipeline document's containers set LISTEN and DSN; `:8080` binds every interface.
# DATABASE_URL or DSN (Go form user:pass@tcp(host:3306)/db?tls=true) come from the runtime.
ENV LISTEN=:8080
EXPOSE 8080
# Probes the port LISTEN names (default 8080), on loopback.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["/bin/sh", "-c", "port=\"${LISTEN##*:}\"; exec curl -fsS -o /dev/null \"http://127.0.0.1:${port:-8080}/livez\""]
CMD ["orders-api"]
