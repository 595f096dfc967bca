@testable import ALMRuntime
import DevBroker
import Foundation
import Kafka
import Logging
import Testing

@Suite("alm topics apply against the dev broker", .serialized, .timeLimit(.minutes(5)))
struct TopicApplierTests {
    let logger = Logger(label: "alm.test")

    @Test("applying topics.yaml twice creates every topic once and then changes nothing")
    func idempotent() async throws {
        try await DevBroker.withTemporary(projectRoot: projectRoot, name: #function) { broker in
            let declarations = try TopicDeclarations.load(file: projectRoot.appendingPathComponent("topics.yaml"))
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]), logger: logger)
            let applier = TopicApplier(admin: admin, logger: logger)

            let first = try await applier.apply(declarations)
            #expect(first.created.sorted() == declarations.topics.map(\.name).sorted())
            let second = try await applier.apply(declarations)
            #expect(second.created.isEmpty)
            #expect(second.unverifiedConfig.isEmpty, "the dev broker reports topic configs, so they were compared")
            #expect(second.unchanged.sorted() == declarations.topics.map(\.name).sorted())

            let onBroker = Dictionary(uniqueKeysWithValues: try await admin.describeTopics().map { ($0.name, $0.partitions.count) })
            for topic in declarations.topics {
                #expect(onBroker[topic.name] == Int(topic.partitions), "\(topic.name)")
            }
            await admin.close()
        }
    }

    @Test("--replication-factor 3 (the compose cluster's topics service): every topic is created with 3 copies, and kept unchanged by the same apply; topics.yaml's 1 is then a mismatch")
    func replicationFactorOverride() async throws {
        try await DevBroker.withTemporary(projectRoot: projectRoot, name: #function) { broker in
            let declared = try TopicDeclarations.load(file: projectRoot.appendingPathComponent("topics.yaml"))
            let clustered = declared.replicated(3)
            #expect(clustered.topics.map(\.name) == declared.topics.map(\.name))
            #expect(clustered.topics.map(\.partitions) == declared.topics.map(\.partitions))
            #expect(clustered.topics.map(\.config) == declared.topics.map(\.config))
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]), logger: logger)
            let applier = TopicApplier(admin: admin, logger: logger)

            #expect(try await applier.apply(clustered).created.count == declared.topics.count)
            #expect(try await applier.apply(clustered).unchanged.count == declared.topics.count)
            let copies = try await admin.describeTopics().filter { declared[$0.name] != nil }.map(\.replicationFactor)
            #expect(copies.count == declared.topics.count && copies.allSatisfy { $0 == 3 })
            await #expect {
                try await applier.apply(declared)
            } throws: { error in
                String(describing: error).contains("alm.works: replication_factor is 3 on the broker but 1 in topics.yaml")
            }
            await admin.close()
        }
    }

    @Test("topics whose partition count or config differ are reported, and nothing is changed")
    func mismatchedPartitions() async throws {
        try await DevBroker.withTemporary(projectRoot: projectRoot, name: #function) { broker in
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]), logger: logger)
            _ = try await admin.createTopics([
                TopicSpecification(name: "alm.raw.crossref", partitions: 4, replicationFactor: 1),
                TopicSpecification(name: "alm.dlq", partitions: 1, replicationFactor: 1,
                                   config: ["cleanup.policy": "delete", "retention.ms": "1000"]),
            ])
            let declarations = try TopicDeclarations.load(file: projectRoot.appendingPathComponent("topics.yaml"))
            let applier = TopicApplier(admin: admin, logger: logger)
            await #expect {
                try await applier.apply(declarations)
            } throws: { error in
                let mismatch = error as? TopicMismatchError
                return mismatch?.mismatches == [
                    TopicMismatch(topic: "alm.raw.crossref", setting: "partitions", declared: "12", actual: "4"),
                    TopicMismatch(topic: "alm.dlq", setting: "retention.ms", declared: "2592000000", actual: "1000"),
                ].sorted { $0.topic > $1.topic }
                    && String(describing: error).contains("alm.raw.crossref: partitions is 4 on the broker but 12 in topics.yaml")
            }
            let names = try await admin.describeTopics().map(\.name)
            #expect(!names.contains("alm.works"), "no topic is created while a declaration is violated")
            await admin.close()
        }
    }
}
