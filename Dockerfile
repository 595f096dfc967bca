# syntax=docker/dockerfile:1
#
# The `alm` image: one executable, every command (`alm topics apply`, `alm collect <source>`,
# `alm process`, `alm serve`, ...). docker-compose.yml runs it; Tests/DeploymentTests checks this
# file statically (there is no Docker engine on the development machines).
#
# Both stages are Ubuntu 24.04 (noble), whose librdkafka is 2.3.0: alm needs >= 2.1.2 (2.0.2's
# tagged-field parser cannot read a KRaft broker's ApiVersions reply, see shared/design.md), so the
# distribution package is used as is and nothing is built from source here.

# ---- build ------------------------------------------------------------------------------------
FROM swift:6.3-noble AS build

# SwiftPM reads rdkafka.pc and the .pc files of its Requires.private too, hence their -dev packages.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends librdkafka-dev pkg-config libsqlite3-dev \
       libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Package.resolved is git-ignored in this project (a development machine's copy may pin a local
# mirror's commits), so it stays out of the context (.dockerignore) and the build resolves afresh.
COPY Package.swift ./
COPY Sources ./Sources
# Package.swift declares the test targets too, and SwiftPM wants their folders to exist.
COPY Tests ./Tests
# Package.swift declares the micro-benchmark target too; its folder must exist for the manifest to load.
COPY Benchmarks ./Benchmarks

# The Swift runtime is linked statically, so the runtime stage needs only librdkafka1 and libc.
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --product alm --static-swift-stdlib \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/alm" /staging/alm

# ---- runtime ----------------------------------------------------------------------------------
FROM ubuntu:24.04 AS runtime

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends librdkafka1 libsqlite3-0 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*

# A fixed numeric uid, so orchestrators can verify that the container does not run as root.
RUN groupadd --system --gid 10001 alm \
    && useradd --system --uid 10001 --gid alm --home-dir /var/lib/alm --create-home \
       --shell /usr/sbin/nologin alm

COPY --from=build /staging/alm /usr/local/bin/alm
COPY topics.yaml /etc/alm/topics.yaml
# The COUNTER-Robots list the processor filters usage with (ALMConfiguration.robotsFileCandidates).
COPY data/counter-robots /etc/alm/counter-robots

USER 10001:10001
# Relative defaults (./state, ./snapshots) land in the user's home; mount volumes here.
WORKDIR /var/lib/alm

ENTRYPOINT ["alm"]
CMD ["version"]
