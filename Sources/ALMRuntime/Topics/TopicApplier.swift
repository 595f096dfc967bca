import Kafka
import Logging

/// `alm topics apply`: creates the declared topics that are missing; a declared topic that exists
/// with other settings is an error, never silently changed. Running it twice changes nothing.
public struct TopicApplier: Sendable {
    public struct Outcome: Sendable, Equatable {
        public var created: [String]
        public var unchanged: [String]
        public var unverifiedConfig: [String]
    }

    public let admin: KafkaAdmin
    public let logger: Logger

    public init(admin: KafkaAdmin, logger: Logger) {
        self.admin = admin
        self.logger = logger
    }

    /// Reads the broker's view of the declared topics.
    public func existing(_ declarations: TopicDeclarations) async throws -> [String: ExistingTopic] {
        let declared = Set(declarations.topics.map(\.name))
        let described = try await admin.describeTopics().filter { declared.contains($0.name) }
        var configs: [String: [String: TopicConfigEntry]] = [:]
        if !described.isEmpty {
            do {
                configs = try await admin.describeConfigs(topics: described.map(\.name))
            } catch {
                logger.warning("the broker did not describe topic configs; they are not compared",
                               metadata: ["error": "\(error)"])
            }
        }
        var existing: [String: ExistingTopic] = [:]
        for topic in described {
            let config = configs[topic.name].flatMap { $0.isEmpty ? nil : $0 }
            existing[topic.name] = ExistingTopic(partitions: Int32(topic.partitions.count),
                                                 replicationFactor: topic.replicationFactor, config: config)
        }
        return existing
    }

    public func apply(_ declarations: TopicDeclarations) async throws -> Outcome {
        let plan = TopicPlan(declarations: declarations, existing: try await existing(declarations))
        guard plan.mismatches.isEmpty else { throw TopicMismatchError(mismatches: plan.mismatches) }
        var created: [String] = []
        if !plan.create.isEmpty {
            let results = try await admin.createTopics(plan.create.map(\.specification))
            for topic in plan.create {
                switch results[topic.name] {
                case .some(.none):
                    created.append(topic.name)
                case .some(.some(let error)) where error.code == .topicAlreadyExists:
                    // Created by someone else between our look and our request: check it again.
                    let again = TopicPlan(declarations: TopicDeclarations(topics: [topic]),
                                          existing: try await existing(TopicDeclarations(topics: [topic])))
                    guard again.mismatches.isEmpty else { throw TopicMismatchError(mismatches: again.mismatches) }
                case .some(.some(let error)):
                    throw error
                case .none:
                    throw KafkaError(.client, "the broker did not answer for topic \(topic.name)")
                }
            }
        }
        for name in created { logger.debug("created topic", metadata: ["kafka.topic": "\(name)"]) }
        return Outcome(created: created, unchanged: plan.unchanged, unverifiedConfig: plan.unverifiedConfig)
    }
}

public struct TopicMismatchError: Error, CustomStringConvertible, Sendable {
    public var mismatches: [TopicMismatch]
    public var description: String {
        "topics on the broker differ from topics.yaml (nothing was changed; fix the declaration or migrate the topic):\n"
            + mismatches.map { "  - \($0)" }.joined(separator: "\n")
    }
}
