import Foundation
import Testing

/// The checks must be able to fail: each case breaks a copy of the real files in one way and expects
/// the problem that names it. A case whose change no longer applies to the files fails too.
@Suite("broken copies are caught")
struct BrokenCopiesAreCaughtTests {
    @Test(arguments: BreakingChange.composeChanges + BreakingChange.dockerfileChanges + BreakingChange.dockerignoreChanges)
    func brokenCopyIsCaught(_ change: BreakingChange) throws {
        let composeText = try RepositoryFiles.read("docker-compose.yml")
        let dockerfileText = try RepositoryFiles.read("Dockerfile")
        let dockerignoreText = try RepositoryFiles.read(".dockerignore")
        let real = try Deployment.load()
        let before = real.allProblems()
        #expect(!before.contains { $0.contains(change.expected) },
                "the real files already have the problem \"\(change.expected)\": \(before)")

        var broken = real
        if let edit = change.compose {
            let (parsed, error) = ComposeFile.parse(composeText)
            var root = try #require(parsed, "\(error ?? "")").root
            edit(&root)
            broken.compose = ComposeFile(root: root)
        }
        if let edit = change.dockerfile {
            let text = edit(dockerfileText)
            #expect(text != dockerfileText, "the change \"\(change.name)\" did not alter the Dockerfile")
            broken.dockerfile = DockerfileModel(text)
        }
        if let edit = change.dockerignore {
            let text = edit(dockerignoreText)
            #expect(text != dockerignoreText, "the change \"\(change.name)\" did not alter .dockerignore")
            broken.dockerignore = text
        }
        let problems = broken.allProblems()
        #expect(problems.contains { $0.contains(change.expected) },
                "\(change.name): expected a problem containing \"\(change.expected)\", got \(problems)")
    }
}

/// The same for the three-broker profile: each case breaks the merged docker-compose.yml +
/// docker-compose.cluster.yml in one way.
@Suite("broken copies of the three-broker profile are caught")
struct BrokenClusterCopiesAreCaughtTests {
    @Test(arguments: BreakingChange.clusterChanges)
    func brokenClusterIsCaught(_ change: BreakingChange) throws {
        let real = try Deployment.load(overrides: [Deployment.clusterOverride])
        let before = real.allProblems()
        #expect(before.isEmpty, "the real cluster profile has problems: \(before)")
        var root = real.compose.root
        let edit = try #require(change.compose)
        edit(&root)
        var broken = real
        broken.compose = ComposeFile(root: root)
        let problems = broken.allProblems()
        #expect(problems.contains { $0.contains(change.expected) },
                "\(change.name): expected a problem containing \"\(change.expected)\", got \(problems)")
    }
}

struct BreakingChange: Sendable, CustomTestStringConvertible {
    var name: String
    /// A fragment of the problem the change must cause.
    var expected: String
    var compose: (@Sendable (inout [String: Any]) -> Void)?
    var dockerfile: (@Sendable (String) -> String)?
    var dockerignore: (@Sendable (String) -> String)?

    var testDescription: String { name }

    static func compose(_ name: String, expect expected: String,
                        _ edit: @escaping @Sendable (inout [String: Any]) -> Void) -> BreakingChange {
        BreakingChange(name: name, expected: expected, compose: edit)
    }

    static func dockerfile(_ name: String, expect expected: String,
                           _ edit: @escaping @Sendable (String) -> String) -> BreakingChange {
        BreakingChange(name: name, expected: expected, dockerfile: edit)
    }

    static func dockerignore(_ name: String, expect expected: String,
                             _ edit: @escaping @Sendable (String) -> String) -> BreakingChange {
        BreakingChange(name: name, expected: expected, dockerignore: edit)
    }
}

extension BreakingChange {
    static let clusterChanges: [BreakingChange] = [
        .compose("one node accepting writes with one copy in sync", expect: "KAFKA_MIN_INSYNC_REPLICAS is 1; on a cluster of 3 brokers it must be 2") { root in
            Edit.service(&root, where: { $0.name == "kafka-2" }) { body in Edit.environment(&body) { $0["KAFKA_MIN_INSYNC_REPLICAS"] = "1" } }
        },
        .compose("internal offsets topic with one copy", expect: "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR is 1; on a cluster") { root in
            Edit.service(&root, where: { $0.name == "kafka" }) { body in Edit.environment(&body) { $0["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] = "1" } }
        },
        .compose("a quorum without node 3", expect: "lists 2 voters for 3 nodes") { root in
            Edit.kafka(&root) { body in Edit.environment(&body) { $0["KAFKA_CONTROLLER_QUORUM_VOTERS"] = "1@kafka:9093,2@kafka-2:9093" } }
        },
        .compose("nodes listing different quorums", expect: "list different KAFKA_CONTROLLER_QUORUM_VOTERS") { root in
            Edit.service(&root, where: { $0.name == "kafka-3" }) { body in
                Edit.environment(&body) { $0["KAFKA_CONTROLLER_QUORUM_VOTERS"] = "1@kafka:9093,3@kafka-3:9093,2@kafka-2:9093" }
            }
        },
        .compose("a voter on another node's host", expect: "voter host kafka-2 is not the service of node 3") { root in
            Edit.kafka(&root) { body in Edit.environment(&body) { $0["KAFKA_CONTROLLER_QUORUM_VOTERS"] = "1@kafka:9093,2@kafka-2:9093,3@kafka-2:9093" } }
        },
        .compose("two nodes with one id", expect: "share KAFKA_NODE_ID 2") { root in
            Edit.service(&root, where: { $0.name == "kafka-3" }) { body in Edit.environment(&body) { $0["KAFKA_NODE_ID"] = "2" } }
        },
        .compose("a node of another cluster", expect: "different CLUSTER_IDs") { root in
            Edit.service(&root, where: { $0.name == "kafka-3" }) { body in Edit.environment(&body) { $0["CLUSTER_ID"] = "MkU3OEVBNTcwNTJENDM2Qg" } }
        },
        .compose("two brokers on one volume", expect: "both mount the volume kafka-2-data") { root in
            Edit.service(&root, where: { $0.name == "kafka-3" }) { $0["volumes"] = ["kafka-2-data:/var/lib/kafka/data"] }
        },
        .compose("only two brokers", expect: "a KRaft quorum of two stops when either stops") { root in
            Edit.services(&root) { $0["kafka-3"] = nil }
        },
        .compose("topics created with topics.yaml's single copy", expect: "passes --replication-factor (none)") { root in
            Edit.topics(&root) { body in Edit.command(&body) { words in
                if let index = words.firstIndex(of: "--replication-factor") { words.removeSubrange(index...(index + 1)) }
            } }
        },
        .compose("topics created before node 3 is up", expect: "depends_on.kafka-3 must have `condition: service_healthy`") { root in
            Edit.topics(&root) { body in
                var dependencies = YAMLValue.mapping(body["depends_on"]) ?? [:]
                dependencies["kafka-3"] = nil
                body["depends_on"] = dependencies
            }
        },
    ]
}

// MARK: Editing a parsed compose file

private enum Edit {
    static func services(_ root: inout [String: Any], _ change: (inout [String: [String: Any]]) -> Void) {
        var services: [String: [String: Any]] = [:]
        for (name, body) in YAMLValue.mapping(root["services"]) ?? [:] { services[name] = YAMLValue.mapping(body) ?? [:] }
        change(&services)
        root["services"] = services
    }

    static func service(_ root: inout [String: Any], where predicate: @escaping (ComposeService) -> Bool,
                        _ change: (inout [String: Any]) -> Void) {
        services(&root) { services in
            for name in services.keys.sorted() where predicate(ComposeService(name: name, body: services[name]!)) {
                change(&services[name]!)
            }
        }
    }

    static func kafka(_ root: inout [String: Any], _ change: (inout [String: Any]) -> Void) {
        service(&root, where: { ImageReference($0.image ?? "").repository == Deployment.kafkaRepository }, change)
    }

    static func topics(_ root: inout [String: Any], _ change: (inout [String: Any]) -> Void) {
        service(&root, where: { Array(($0.command ?? []).prefix(2)) == ["topics", "apply"] }, change)
    }

    static func environment(_ body: inout [String: Any], _ change: (inout [String: String]) -> Void) {
        var environment = ComposeService(name: "", body: body).environment
        change(&environment)
        body["environment"] = environment
    }

    static func command(_ body: inout [String: Any], _ change: (inout [String]) -> Void) {
        var words = ComposeService(name: "", body: body).command ?? []
        change(&words)
        body["command"] = words
    }

    /// Replaces the value of `-X key=...` in a command.
    static func kafkaProperty(_ words: inout [String], _ key: String, _ value: String) {
        for index in words.indices where words[index].hasPrefix("\(key)=") { words[index] = "\(key)=\(value)" }
    }

    /// Replaces the value after a long option.
    static func option(_ words: inout [String], _ name: String, _ value: String) {
        if let index = words.firstIndex(of: "--\(name)"), index + 1 < words.count { words[index + 1] = value }
    }
}

// MARK: Editing Dockerfile text

private enum TextEdit {
    static func replacing(_ pattern: String, with template: String) -> @Sendable (String) -> String {
        { text in
            guard let regex = try? NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines]) else { return text }
            return regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
        }
    }

    /// Rewrites the image of the first (build) or last (runtime) FROM line.
    static func fromImage(last: Bool, to image: String) -> @Sendable (String) -> String {
        { text in
            var lines = text.components(separatedBy: "\n")
            let froms = lines.indices.filter { lines[$0].uppercased().hasPrefix("FROM ") }
            guard let index = last ? froms.last : froms.first else { return text }
            var words = lines[index].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if let imageIndex = words.indices.dropFirst().first(where: { !words[$0].hasPrefix("--") }) { words[imageIndex] = image }
            lines[index] = words.joined(separator: " ")
            return lines.joined(separator: "\n")
        }
    }
}

extension BreakingChange {
    static let composeChanges: [BreakingChange] = [
        .compose("no services", expect: "no `services` mapping") { $0["services"] = nil },
        .compose("kafka image tagged latest", expect: "apache/kafka:latest\" must") { root in
            Edit.kafka(&root) { $0["image"] = "apache/kafka:latest" }
        },
        .compose("kafka image without a tag", expect: "must name an explicit version tag") { root in
            Edit.kafka(&root) { $0["image"] = "apache/kafka" }
        },
        .compose("a service with neither image nor build", expect: "has neither `image` nor `build`") { root in
            Edit.services(&root) { $0["orphan"] = ["command": "serve"] }
        },
        .compose("KRaft roles without controller", expect: "must be both broker and controller") { root in
            Edit.kafka(&root) { body in Edit.environment(&body) { $0["KAFKA_PROCESS_ROLES"] = "broker" } }
        },
        .compose("quorum voter on a port that is not the controller's", expect: "voter port 9999") { root in
            Edit.kafka(&root) { body in
                Edit.environment(&body) { env in
                    let voter = env["KAFKA_CONTROLLER_QUORUM_VOTERS"] ?? "1@kafka:9093"
                    env["KAFKA_CONTROLLER_QUORUM_VOTERS"] = HostPort(voter).host + ":9999"
                }
            }
        },
        .compose("controller listener missing from the protocol map", expect: "is not in KAFKA_LISTENER_SECURITY_PROTOCOL_MAP") { root in
            Edit.kafka(&root) { body in
                Edit.environment(&body) { env in
                    let controllers = Set((env["KAFKA_CONTROLLER_LISTENER_NAMES"] ?? "").split(separator: ",").map(String.init))
                    env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] = (env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] ?? "")
                        .split(separator: ",").filter { !controllers.contains(String($0.split(separator: ":")[0])) }
                        .joined(separator: ",")
                }
            }
        },
        .compose("auto topic creation on", expect: "auto topic creation must be disabled") { root in
            Edit.kafka(&root) { body in Edit.environment(&body) { $0["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] = "true" } }
        },
        .compose("auto topic creation left to Kafka's default", expect: "KAFKA_AUTO_CREATE_TOPICS_ENABLE is missing") { root in
            Edit.kafka(&root) { body in Edit.environment(&body) { $0["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] = nil } }
        },
        .compose("offsets topic replication factor 3", expect: "is 3; with one broker it must be 1") { root in
            Edit.kafka(&root) { body in Edit.environment(&body) { $0["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] = "3" } }
        },
        .compose("cluster id that is no UUID", expect: "CLUSTER_ID \"not-a-uuid\"") { root in
            Edit.kafka(&root) { body in Edit.environment(&body) { $0["CLUSTER_ID"] = "not-a-uuid" } }
        },
        .compose("kafka without a healthcheck", expect: "has no healthcheck") { root in
            Edit.kafka(&root) { $0["healthcheck"] = nil }
        },
        .compose("kafka data in the container", expect: "is not on a named volume") { root in
            Edit.kafka(&root) { $0["volumes"] = nil }
        },
        .compose("unknown alm subcommand", expect: "which is not an alm subcommand") { root in
            Edit.topics(&root) { body in Edit.command(&body) { $0[0] = "topic" } }
        },
        .compose("bootstrap.servers on localhost", expect: "host localhost is not a service") { root in
            Edit.topics(&root) { body in Edit.command(&body) { Edit.kafkaProperty(&$0, "bootstrap.servers", "localhost:9092") } }
        },
        .compose("bootstrap.servers on a port kafka does not advertise", expect: "does not match a listener") { root in
            Edit.topics(&root) { body in
                Edit.command(&body) { words in
                    let host = HostPort(ComposeService(name: "", body: ["command": words]).kafkaProperties["bootstrap.servers"] ?? "kafka").host
                    Edit.kafkaProperty(&words, "bootstrap.servers", "\(host):1")
                }
            }
        },
        .compose("kafka advertises localhost only", expect: "does not match a listener") { root in
            Edit.kafka(&root) { body in
                Edit.environment(&body) { env in
                    env["KAFKA_ADVERTISED_LISTENERS"] = KafkaListener.parseList(env["KAFKA_ADVERTISED_LISTENERS"])
                        .map { "\($0.name)://localhost:\($0.port ?? 0)" }.joined(separator: ",")
                }
            }
        },
        .compose("no bootstrap.servers", expect: "with no `-X bootstrap.servers") { root in
            Edit.topics(&root) { body in
                Edit.command(&body) { words in
                    while let index = words.firstIndex(of: "-X") { words.removeSubrange(index...min(index + 1, words.count - 1)) }
                }
            }
        },
        .compose("--topics path the image does not hold", expect: "copies nothing there") { root in
            Edit.topics(&root) { body in Edit.command(&body) { Edit.option(&$0, "topics", "/etc/alm/missing.yaml") } }
        },
        .compose("entrypoint replaced", expect: "replaces the image's `alm` entrypoint") { root in
            Edit.topics(&root) { $0["entrypoint"] = ["sh", "-c"] }
        },
        .compose("depends_on an unknown service", expect: "names zookeeper, which is not a service") { root in
            Edit.topics(&root) { $0["depends_on"] = ["zookeeper": ["condition": "service_started"]] }
        },
        .compose("topics starts before kafka is healthy", expect: "must have `condition: service_healthy`") { root in
            Edit.topics(&root) { body in
                var dependencies = YAMLValue.mapping(body["depends_on"]) ?? [:]
                for name in dependencies.keys { dependencies[name] = ["condition": "service_started"] }
                body["depends_on"] = dependencies
            }
        },
        .compose("restart: no unquoted (YAML false)", expect: "YAML boolean") { root in
            Edit.topics(&root) { $0["restart"] = false }
        },
        .compose("topics restarted on failure", expect: "must not be restarted") { root in
            Edit.topics(&root) { $0["restart"] = "on-failure" }
        },
        .compose("no service applies topics", expect: "no service runs `alm topics apply`") { root in
            Edit.topics(&root) { body in Edit.command(&body) { $0 = ["version"] } }
        },
        .compose("named volume not declared", expect: "not declared under the top-level `volumes`") { $0["volumes"] = nil },
    ]

    static let dockerfileChanges: [BreakingChange] = [
        .dockerfile("single stage", expect: "stage(s)") { text in
            let lines = text.components(separatedBy: "\n")
            guard let last = lines.lastIndex(where: { $0.uppercased().hasPrefix("FROM ") }) else { return text }
            return lines[last...].joined(separator: "\n")
        },
        .dockerfile("runtime on Debian 12", expect: "librdkafka 2.0.2 is older than 2.1.2",
                    TextEdit.fromImage(last: true, to: "debian:bookworm-slim")),
        .dockerfile("build on Ubuntu 22.04", expect: "librdkafka 1.8.0 is older than 2.1.2",
                    TextEdit.fromImage(last: false, to: "swift:6.3-jammy")),
        .dockerfile("build and runtime on different releases", expect: "must run on the same release",
                    TextEdit.fromImage(last: true, to: "debian:trixie-slim")),
        .dockerfile("runtime image tagged latest", expect: "pins no version tag",
                    TextEdit.fromImage(last: true, to: "ubuntu:latest")),
        .dockerfile("build image with an implicit release", expect: "names no distribution release",
                    TextEdit.fromImage(last: false, to: "swift:6.3")),
        .dockerfile("no librdkafka-dev", expect: "does not apt-get install librdkafka-dev",
                    TextEdit.replacing(#"\blibrdkafka-dev\b"#, with: "libssl-dev")),
        .dockerfile("no pkg-config", expect: "does not apt-get install pkg-config",
                    TextEdit.replacing(#"(?<![-\w])pkg-config\b"#, with: "")),
        .dockerfile("no librdkafka1", expect: "does not apt-get install librdkafka1",
                    TextEdit.replacing(#"\blibrdkafka1\b"#, with: "libssl3")),
        .dockerfile("another product", expect: "builds `--product alm`",
                    TextEdit.replacing(#"--product[ =]alm\b"#, with: "--product other")),
        .dockerfile("debug build", expect: "release configuration",
                    TextEdit.replacing(#"(-c|--configuration)[ =]release\b"#, with: "")),
        .dockerfile("dynamic Swift runtime on plain Ubuntu", expect: "lacks --static-swift-stdlib",
                    TextEdit.replacing(#" ?--static-swift-stdlib\b"#, with: "")),
        .dockerfile("no ENTRYPOINT", expect: "has no ENTRYPOINT",
                    TextEdit.replacing(#"^ENTRYPOINT.*$"#, with: "")),
        .dockerfile("shell-form ENTRYPOINT", expect: "shell form",
                    TextEdit.replacing(#"^ENTRYPOINT.*$"#, with: "ENTRYPOINT alm")),
        .dockerfile("ENTRYPOINT not alm", expect: "does not run alm",
                    TextEdit.replacing(#"^ENTRYPOINT.*$"#, with: #"ENTRYPOINT ["/bin/sh"]"#)),
        .dockerfile("topics.yaml not copied", expect: "does not COPY topics.yaml",
                    TextEdit.replacing(#"^COPY\b.*topics\.yaml.*$"#, with: "")),
        .dockerfile("binary not copied", expect: "does not COPY --from=<build stage> the alm binary",
                    TextEdit.replacing(#"^COPY --from.*$"#, with: "")),
        .dockerfile("runs as root", expect: "runs as root",
                    TextEdit.replacing(#"^USER.*$"#, with: "")),
        .dockerfile("COPY of a missing directory", expect: "does not exist in the repository",
                    TextEdit.replacing(#"^COPY Sources\b"#, with: "COPY Sourcez")),
    ]

    static let dockerignoreChanges: [BreakingChange] = [
        .dockerignore(".git sent to the daemon", expect: "does not exclude .git",
                      TextEdit.replacing(#"^/?\.git/?$"#, with: "")),
        .dockerignore(".build sent to the daemon", expect: "does not exclude .build",
                      TextEdit.replacing(#"^/?\.build/?$"#, with: "")),
        .dockerignore("sources excluded", expect: ".dockerignore excludes Sources") { $0 + "\nSources\n" },
    ]
}
