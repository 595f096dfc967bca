@testable import ALMRuntime
import Foundation
import Kafka
import Testing

let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite("topics.yaml")
struct TopicDeclarationsTests {
    @Test("the project's topics.yaml declares the registry, one raw topic per source, metrics and the DLQ")
    func projectFile() throws {
        let declarations = try TopicDeclarations.load(file: projectRoot.appendingPathComponent("topics.yaml"))
        #expect(declarations["alm.works"]?.config["cleanup.policy"] == "compact")
        #expect(declarations["alm.metrics"]?.config["cleanup.policy"] == "compact")
        #expect(declarations["alm.dlq"] != nil)
        let sources = declarations.rawTopics.map { String($0.name.dropFirst(TopicDeclarations.rawTopicPrefix.count)) }
        #expect(Set(sources) == ["crossref", "openalex", "europepmc", "pmc", "pubmed", "datacite", "opencitations",
                                 "wikipedia", "hypothesis", "bluesky", "reddit", "counter", "accesslog", "eventdata"])
        #expect(Set(declarations.rawTopics.map(\.partitions)).count == 1, "raw topics are co-partitioned")
        #expect(declarations.rawTopics.allSatisfy { $0.config["retention.ms"] == "-1" }, "raw topics are kept for replay")
        #expect(declarations.topics.allSatisfy { !$0.description.isEmpty })
    }

    @Test("invalid declarations are reported with the topic and the setting", arguments: [
        ("topics: []\nfoo: 1", nil as String?),
        ("topics:\n  - name: a\n    description: x\n    partitions: 0\n    replication_factor: 1", "partitions must be 1...10000"),
        ("topics:\n  - name: a\n    description: x\n    partitions: two\n    replication_factor: 1", "expected an integer"),
        ("topics:\n  - name: a b\n    description: x\n    partitions: 1\n    replication_factor: 1", "not a valid Kafka topic name"),
        ("topics:\n  - name: a\n    partitions: 1\n    replication_factor: 1", "missing description"),
        ("topics:\n  - name: a\n    description: x\n    partitions: 1\n    replication_factor: 1\n    retention: 5", "unknown key \"retention\""),
        ("topics:\n  - {name: a, description: x, partitions: 1, replication_factor: 1}\n  - {name: a, description: y, partitions: 1, replication_factor: 1}", "declared twice"),
        ("topics:\n  - {name: alm.raw.x, description: x, partitions: 3, replication_factor: 1, copartition: w}\n  - {name: alm.raw.y, description: y, partitions: 4, replication_factor: 1, copartition: w}", "mixes partition counts: alm.raw.x=3, alm.raw.y=4"),
        ("topics:\n  - {name: alm.raw.x, description: x, partitions: 3, replication_factor: 1}", "must belong to a copartition group"),
        ("topics: {a: 1}", "expected a list under \"topics\""),
        ("topics: [", "invalid YAML"),
    ])
    func invalid(yaml: String, expected: String?) {
        do {
            _ = try TopicDeclarations.parse(yaml: yaml)
            #expect(expected == nil, "accepted: \(yaml)")
        } catch {
            if let expected {
                #expect(error.description.contains(expected), "\(error.description)")
            } else {
                Issue.record("rejected: \(error)")
            }
        }
    }
}

@Suite("topic plan")
struct TopicPlanTests {
    let declarations = TopicDeclarations(topics: [
        TopicDeclaration(name: "t.a", description: "a", partitions: 3, replicationFactor: 1, config: ["cleanup.policy": "compact"]),
        TopicDeclaration(name: "t.b", description: "b", partitions: 6, replicationFactor: 1, config: ["retention.ms": "-1"]),
    ])

    @Test("missing topics are created, matching ones left alone")
    func createAndUnchanged() {
        let plan = TopicPlan(declarations: declarations, existing: [
            "t.a": ExistingTopic(partitions: 3, replicationFactor: 1,
                                 config: ["cleanup.policy": TopicConfigEntry(value: "compact", isDefault: false)]),
        ])
        #expect(plan.create.map(\.name) == ["t.b"])
        #expect(plan.unchanged == ["t.a"])
        #expect(plan.mismatches.isEmpty)
    }

    @Test("partition count, replication and config differences are mismatches")
    func mismatches() {
        let plan = TopicPlan(declarations: declarations, existing: [
            "t.a": ExistingTopic(partitions: 4, replicationFactor: 3,
                                 config: ["cleanup.policy": TopicConfigEntry(value: "delete", isDefault: true)]),
            "t.b": ExistingTopic(partitions: 6, replicationFactor: 1, config: ["retention.ms": TopicConfigEntry(value: "604800000", isDefault: true)]),
        ])
        #expect(plan.create.isEmpty && plan.unchanged.isEmpty)
        #expect(plan.mismatches == [
            TopicMismatch(topic: "t.a", setting: "partitions", declared: "3", actual: "4"),
            TopicMismatch(topic: "t.a", setting: "replication_factor", declared: "1", actual: "3"),
            TopicMismatch(topic: "t.a", setting: "cleanup.policy", declared: "compact", actual: "delete"),
            TopicMismatch(topic: "t.b", setting: "retention.ms", declared: "-1", actual: "604800000"),
        ])
        #expect(plan.mismatches[0].description == "t.a: partitions is 4 on the broker but 3 in topics.yaml")
    }

    @Test("a broker that does not report configs leaves them unverified, not mismatched")
    func unverified() {
        let plan = TopicPlan(declarations: declarations, existing: [
            "t.a": ExistingTopic(partitions: 3, replicationFactor: 1, config: nil),
        ])
        #expect(plan.unchanged == ["t.a"] && plan.unverifiedConfig == ["t.a"])
    }
}

@Suite("configuration")
struct ConfigurationTests {
    @Test("flags beat the file, the file beats defaults")
    func precedence() throws {
        let file = try ALMConfiguration.parse(yaml: """
            kafka:
              bootstrap.servers: file:9092
              linger.ms: 20
              client.id: from-file
            topics_file: conf/topics.yaml
            """)
        #expect(file.kafka["linger.ms"] == "20" && file.topicsFile == "conf/topics.yaml")
        let flags = try file.overriding(kafkaAssignments: ["bootstrap.servers=flag:9092", "sasl.password=a=b"])
        let effective = KafkaConfiguration.defaults.merging(flags.kafka)
        #expect(effective["bootstrap.servers"] == "flag:9092")
        #expect(effective["client.id"] == "from-file")
        #expect(effective["partitioner"] == "murmur2_random", "default kept when nobody overrides it")
        #expect(effective["sasl.password"] == "a=b", "values may contain =")
    }

    @Test("bad configuration says what and where", arguments: [
        ("kafka: [a]", "kafka: expected a mapping"),
        ("colour: blue", "unknown key \"colour\""),
        ("kafka:\n  a: 1\n  a: 2", "duplicated key"),
    ])
    func invalid(yaml: String, expected: String) {
        #expect { try ALMConfiguration.parse(yaml: yaml) } throws: { ($0 as? ConfigurationError)?.description.contains(expected) == true }
    }

    @Test("processor, snapshot and collector keys are read; a bad value names its key")
    func sections() throws {
        let configuration = try ALMConfiguration.parse(yaml: """
            processor:
              usage_lateness_seconds: 604800
              batch_records: 2000
            snapshots: {interval_seconds: 3600, retain: 24}
            collectors:
              user_agent: alm (mailto:metrics@example.org)
              crossref:
                base_url: https://api.crossref.org/
                requests_per_second: 10
                headers_from_env: {Authorization: CROSSREF_PLUS_TOKEN}
                refresh_days: {young: 0.5, older: 90}
              pmc:
                report_targets: [ajrccm, plosone]
                first_month: 2024-01
                restate_months: 3
                query_from_env: {user: PMC_USER, password: PMC_PASSWORD}
              wikipedia:
                languages: [en, de, zh-min-nan]
            """)
        #expect(configuration.processor.usageLatenessSeconds == 604_800 && configuration.processor.batchRecords == 2000)
        #expect(configuration.snapshots.intervalSeconds == 3600 && configuration.snapshots.retain == 24)
        #expect(configuration.collectors.userAgent == "alm (mailto:metrics@example.org)")
        let crossref = try #require(configuration.collectors.sources["crossref"])
        #expect(crossref.baseURL == "https://api.crossref.org", "the trailing slash is dropped")
        #expect(crossref.requestsPerSecond == 10 && crossref.headersFromEnvironment == ["Authorization": "CROSSREF_PLUS_TOKEN"])
        #expect(crossref.refreshDays.map { [$0.young, $0.recent, $0.older] } == [0.5, 7, 90], "an unnamed tier keeps its default")
        let pmc = try #require(configuration.collectors.sources["pmc"])
        #expect(pmc.reportTargets == ["ajrccm", "plosone"] && pmc.firstMonth == "2024-01" && pmc.restateMonths == 3)
        #expect(pmc.queryFromEnvironment == ["user": "PMC_USER", "password": "PMC_PASSWORD"])
        #expect(configuration.collectors.sources["wikipedia"]?.languages == ["en", "de", "zh-min-nan"])
        #expect(crossref.languages == nil)
    }

    @Test("bad processor, snapshot and collector values", arguments: [
        ("processor:\n  usage_lateness_seconds: -1", "processor.usage_lateness_seconds"),
        ("processor:\n  batch_records: 0", "processor.batch_records"),
        ("snapshots:\n  retain: 0", "snapshots.retain"),
        ("collectors:\n  crossref:\n    base_url: ftp://x", "collectors.crossref.base_url"),
        ("collectors:\n  crossref:\n    refresh_days: {fresh: 1}", "unknown tier"),
        ("collectors:\n  pmc:\n    first_month: 2024-13", "collectors.pmc.first_month"),
        ("collectors:\n  pmc:\n    report_targets: ajrccm", "expected a list"),
        ("collectors:\n  pmc:\n    colour: blue", "unknown key"),
        ("collectors:\n  wikipedia:\n    languages: []", "expected a non-empty list"),
        ("collectors:\n  wikipedia:\n    languages: [en, \"de.wikipedia.org/x\"]", "collectors.wikipedia.languages[1]"),
    ])
    func invalidSections(yaml: String, expected: String) {
        #expect { try ALMConfiguration.parse(yaml: yaml) } throws: { ($0 as? ConfigurationError)?.description.contains(expected) == true }
    }

    @Test("serve keys are read; the admin key is only ever a digest")
    func serve() throws {
        let configuration = try ALMConfiguration.parse(yaml: """
            serve:
              host: 0.0.0.0
              port: 9000
              admin_key_sha256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08
              rate_limit_per_minute: 0
              cors_origins: ["*"]
              attention:
                weights: {news: 10, social: 0.5}
                source_types: {hypothesis: peer_review}
            """)
        #expect(configuration.serve.host == "0.0.0.0" && configuration.serve.port == 9000)
        #expect(configuration.serve.adminKeySHA256 == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
        #expect(configuration.serve.rateLimitPerMinute == 0 && configuration.serve.corsOrigins == ["*"])
        #expect(configuration.serve.attentionWeights == ["news": 10, "social": 0.5])
        #expect(configuration.serve.attentionSourceTypes == ["hypothesis": "peer_review"])
        #expect(ALMConfiguration().serve.port == 8080 && ALMConfiguration().serve.adminKeySHA256 == nil)
    }

    @Test("a bad serve value names its key", arguments: [
        ("serve:\n  port: 70000", "serve.port"),
        ("serve:\n  admin_key_sha256: secret", "serve.admin_key_sha256"),
        ("serve:\n  rate_limit_per_minute: -1", "serve.rate_limit_per_minute"),
        ("serve:\n  attention:\n    weights: {news: -1}", "serve.attention.weights.news"),
        ("serve:\n  attention:\n    colours: {}", "serve.attention.colours"),
        ("serve:\n  tls: true", "serve.tls: unknown key"),
    ])
    func invalidServe(yaml: String, expected: String) {
        #expect { try ALMConfiguration.parse(yaml: yaml) } throws: { ($0 as? ConfigurationError)?.description.contains(expected) == true }
    }

    @Test("-X needs key=value")
    func badAssignment() {
        #expect(throws: ConfigurationError.self) { try ALMConfiguration().overriding(kafkaAssignments: ["novalue"]) }
        #expect(throws: ConfigurationError.self) { try ALMConfiguration().overriding(kafkaAssignments: ["=x"]) }
    }
}
