# syntax=docker/dockerfile:1
# sfpg as a container image: a batch job (Kubernetes CronJob, systemd), or `sfpg serve` (8080 with --bind 0.0.0.0;
# Kubernetes probes /ready and /health, so no HEALTHCHECK).
#
#   docker build --build-arg SFPG_BUILD_COMMIT=$(git rev-parse HEAD) -t sfpg:0.9.0 .
#   docker run --rm --read-only --tmpfs /var/spool/sfpg:uid=10001,gid=10001,mode=0700 \
#       -v "$PWD/jobs:/etc/sfpg/jobs:ro" --env-file sfpg.env sfpg:0.9.0 run --incremental
#
# Proved without a Docker engine by scripts/test-image (same package list, same setup script, debootstrap root).

ARG SWIFT_IMAGE=swift:6.1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpq-dev libcurl4-openssl-dev zlib1g-dev libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# A build context has no .git: the commit comes in as a build argument (scripts/build-release stamps it into
# Sources/sfpg/BuildInfo.swift for `sfpg --version` and the sfpg_build_info metric).
ARG SFPG_BUILD_COMMIT=unknown
RUN SFPG_BUILD_COMMIT="${SFPG_BUILD_COMMIT}" scripts/build-release --product sfpg \
 && install -D -m 0755 .build/release/sfpg /out/sfpg \
 && strip /out/sfpg \
 && ldd /out/sfpg

FROM ${RUNTIME_IMAGE}
ARG SFPG_VERSION=0.9.0
ARG SFPG_BUILD_COMMIT=unknown
# The repository has no LICENSE file and no public URL yet: pass them when publishing (SPDX id, e.g. Apache-2.0).
ARG SFPG_SOURCE_URL=unknown
ARG SFPG_LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="sfpg" \
      org.opencontainers.image.description="Copies Salesforce objects into PostgreSQL (Bulk API 2.0, COPY, one merge)" \
      org.opencontainers.image.version="${SFPG_VERSION}" \
      org.opencontainers.image.revision="${SFPG_BUILD_COMMIT}" \
      org.opencontainers.image.source="${SFPG_SOURCE_URL}" \
      org.opencontainers.image.licenses="${SFPG_LICENSES}"
COPY deploy/runtime-packages.txt deploy/image-setup.sh /tmp/image/
RUN apt-get update \
 && sed -e 's/#.*//' -e '/^[[:space:]]*$/d' /tmp/image/runtime-packages.txt \
    | xargs env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* \
 && sh /tmp/image/image-setup.sh \
 && rm -rf /tmp/image
COPY --from=build /out/sfpg /usr/local/bin/sfpg
# Jobs come from a mounted directory (ConfigMap); result pages spool to a writable volume (emptyDir), so the root
# filesystem can be read-only. Logs are JSON lines on stderr when stderr is not a terminal.
ENV SFPG_JOBS_DIR=/etc/sfpg/jobs \
    TMPDIR=/var/spool/sfpg
USER 10001:10001
WORKDIR /var/spool/sfpg
EXPOSE 8080
ENTRYPOINT ["sfpg"]
CMD ["--help"]
