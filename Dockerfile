# The ciguard image for the lint and audit jobs of `ciguard init` pipelines (docs/init.md):
#   docker build -t ciguard/ciguard:0.1.0 .
# The jobs need a shell, so there is no ENTRYPOINT.
FROM rust:1.95-slim AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin ciguard

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/ciguard /usr/local/bin/ciguard
