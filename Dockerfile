# The ciguard image: the release's binary (scripts/release) on Debian slim, with CA certificates
# (`ciguard audit` talks to GitLab over TLS) and a shell (CI jobs run their scripts in it). No
# ENTRYPOINT: a job's `script:` runs as it is. The release pipeline builds it from dist/:
#   docker build --build-arg VERSION=0.1.0 -f Dockerfile -t registry.gitlab.com/ciguard/ciguard:0.1.0 dist/
# and jobs reference it by digest (the release notes give it).
# debian:bookworm-slim, pinned by digest: update it deliberately.
FROM debian:bookworm-slim@sha256:7b140f374b289a7c2befc338f42ebe6441b7ea838a042bbd5acbfca6ec875818
ARG VERSION
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# ADD unpacks the tarball: the same stripped binaries that `cargo binstall` and the wheel install.
ADD ciguard-${VERSION}-x86_64-unknown-linux-gnu.tar.gz /opt/
RUN ln -s /opt/ciguard-${VERSION}-x86_64-unknown-linux-gnu/ciguard /usr/local/bin/ciguard \
 && ln -s /opt/ciguard-${VERSION}-x86_64-unknown-linux-gnu/ciguard-pseudonymize /usr/local/bin/ciguard-pseudonymize \
 && ciguard --version
