import Testing

/// Static checks of docker-compose.yml (there is no Docker engine to run it on the development machines).
@Suite("docker-compose.yml")
struct ComposeFileTests {
    @Test("is a mapping with services")
    func isAMappingWithServices() throws {
        record(try Deployment.load().composeStructureProblems())
    }

    @Test("every service has a pinned image or a build")
    func everyServiceHasAPinnedImageOrABuild() throws {
        record(try Deployment.load().pinnedImageProblems())
    }

    @Test("every build uses a Dockerfile of the repository")
    func buildsUseExistingDockerfiles() throws {
        record(try Deployment.load().buildProblems())
    }

    @Test("kafka is a single-node KRaft apache/kafka with auto topic creation off, a healthcheck and a data volume")
    func kafkaIsASingleNodeKRaftBroker() throws {
        record(try Deployment.load().kafkaProblems())
    }

    @Test("alm services run known subcommands against a broker of this file, with files the image holds")
    func almServicesRunKnownSubcommandsAgainstComposeBrokers() throws {
        let deployment = try Deployment.load()
        #expect(!deployment.almServices.isEmpty, "no service is built from ./Dockerfile")
        record(deployment.almServiceProblems())
    }

    @Test("a one-shot service applies topics.yaml once kafka is healthy")
    func topicsAreAppliedOnceKafkaIsHealthy() throws {
        record(try Deployment.load().topicsServiceProblems())
    }

    @Test("depends_on names existing services with valid conditions")
    func dependsOnNamesExistingServices() throws {
        record(try Deployment.load().dependsOnProblems())
    }

    @Test("named volumes are declared")
    func namedVolumesAreDeclared() throws {
        record(try Deployment.load().volumeProblems())
    }
}

/// Records each problem as its own issue, so a failure reads as the list of what is wrong.
func record(_ problems: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for problem in problems { Issue.record(Comment(rawValue: problem), sourceLocation: sourceLocation) }
}
