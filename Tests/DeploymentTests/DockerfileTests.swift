import Testing

/// Static checks of the Dockerfile and .dockerignore, read as text.
@Suite("Dockerfile")
struct DockerfileTests {
    @Test("has a build stage and a separate runtime stage")
    func hasSeparateBuildAndRuntimeStages() throws {
        record(try Deployment.load().stageProblems())
    }

    @Test("the build stage installs librdkafka-dev and pkg-config")
    func buildStageInstallsLibrdkafkaDev() throws {
        record(try Deployment.load().buildStageLibrdkafkaProblems())
    }

    @Test("the runtime stage installs librdkafka1")
    func runtimeStageInstallsLibrdkafka1() throws {
        record(try Deployment.load().runtimeStageLibrdkafkaProblems())
    }

    @Test("base images are pinned releases whose librdkafka is >= 2.1.2, the same for build and runtime")
    func baseImagesShipLibrdkafka212OrNewer() throws {
        record(try Deployment.load().baseImageProblems())
    }

    @Test("swift build builds the alm product in release, with a static Swift runtime")
    func buildsTheAlmProduct() throws {
        record(try Deployment.load().swiftBuildProblems())
    }

    @Test("the image holds /usr/local/bin/alm and topics.yaml, runs alm as its entrypoint, not as root")
    func runtimeImageRunsAlmAsNonRoot() throws {
        record(try Deployment.load().runtimeContentProblems())
    }

    @Test("COPY sources exist in the repository")
    func copiedSourcesExist() throws {
        record(try Deployment.load().copySourceProblems())
    }

    @Test(".dockerignore keeps local state out and what the Dockerfile copies in")
    func dockerignoreKeepsLocalStateOut() throws {
        record(try Deployment.load().dockerignoreProblems())
    }
}

@Suite("distribution table")
struct DistributionTableTests {
    @Test("release of an image tag", arguments: [
        ("swift:6.3-noble", "noble"), ("swift:6.3-noble-slim", "noble"), ("ubuntu:24.04", "noble"),
        ("ubuntu:noble", "noble"), ("docker.io/library/ubuntu:22.04", "jammy"), ("swift:6.1-jammy", "jammy"),
        ("debian:bookworm-slim", "bookworm"), ("debian:12.8", "bookworm"), ("debian:13-slim", "trixie"),
        ("swift:6.3-bookworm", "bookworm"),
    ])
    func releaseOfImage(image: String, release: String) {
        #expect(Distributions.release(ofImage: image) == release, "\(image) should read as \(release)")
    }

    @Test("images whose tag names no known release", arguments: ["swift:6.3", "swift:latest", "ubuntu", "alpine:3.20", "swift:6.3-amazonlinux2"])
    func unknownRelease(image: String) {
        #expect(Distributions.release(ofImage: image) == nil, "\(image) names no release the table knows")
    }

    @Test("version comparison")
    func versionComparison() {
        #expect(Distributions.isAtLeast("2.3.0", "2.1.2"))
        #expect(Distributions.isAtLeast("2.1.2", "2.1.2"))
        #expect(Distributions.isAtLeast("2.10.0", "2.1.2"))
        #expect(!Distributions.isAtLeast("2.0.2", "2.1.2"))
        #expect(!Distributions.isAtLeast("1.8.0", "2.1.2"))
    }

    @Test("only bookworm and jammy are too old")
    func tableVerdicts() {
        let tooOld = Distributions.librdkafkaByRelease.filter { !Distributions.isAtLeast($0.value, Distributions.minimumLibrdkafka) }
        #expect(Set(tooOld.keys) == ["bookworm", "jammy"])
    }
}
