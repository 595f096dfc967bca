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

/// The three-broker profile as `docker compose -f docker-compose.yml -f docker-compose.cluster.yml` sees it.
@Suite("docker-compose.yml with docker-compose.cluster.yml (three brokers)")
struct ClusterProfileTests {
    @Test("every check passes on the merged files: three KRaft nodes in one quorum, three copies of every topic, two in sync")
    func clusterProfileIsValid() throws {
        let cluster = try Deployment.load(overrides: [Deployment.clusterOverride])
        record(cluster.allProblems())
        #expect(cluster.kafkaServices.map(\.name) == ["kafka", "kafka-2", "kafka-3"])
        for broker in cluster.kafkaServices {
            #expect(broker.environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093", "\(broker.name)")
            #expect(broker.environment["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3" && broker.environment["KAFKA_MIN_INSYNC_REPLICAS"] == "2",
                    "\(broker.name)")
        }
        let topics = try #require(cluster.almServices.first { Array(($0.command ?? []).prefix(2)) == ["topics", "apply"] })
        #expect(topics.option("replication-factor") == "3")
        #expect(Set(topics.dependsOn.map(\.service)).isSuperset(of: ["kafka", "kafka-2", "kafka-3"]))

        // The profile changes the brokers and the topics job only; the single-node default is untouched.
        let single = try Deployment.load()
        #expect(single.kafkaServices.map(\.name) == ["kafka"])
        #expect(single.kafkaServices.first?.environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093")
        for service in single.almServices where service.name != topics.name {
            #expect(cluster.compose.service(service.name)?.command == service.command, "\(service.name)")
        }
    }
}

/// Records each problem as its own issue, so a failure reads as the list of what is wrong.
func record(_ problems: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for problem in problems { Issue.record(Comment(rawValue: problem), sourceLocation: sourceLocation) }
}
