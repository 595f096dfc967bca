import Kafka

/// What a topic on the broker looks like, as far as `alm topics apply` compares it.
public struct ExistingTopic: Sendable, Equatable {
    public var partitions: Int32
    public var replicationFactor: Int
    /// Configs the broker reports; nil when it could not say (the comparison is then skipped).
    public var config: [String: TopicConfigEntry]?

    public init(partitions: Int32, replicationFactor: Int, config: [String: TopicConfigEntry]?) {
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.config = config
    }
}

public struct TopicMismatch: Sendable, Equatable, CustomStringConvertible {
    public var topic: String
    public var setting: String
    public var declared: String
    public var actual: String

    public var description: String {
        "\(topic): \(setting) is \(actual) on the broker but \(declared) in topics.yaml"
    }
}

/// The decision of `alm topics apply`, computed without touching Kafka.
public struct TopicPlan: Sendable, Equatable {
    public var create: [TopicDeclaration] = []
    public var unchanged: [String] = []
    public var mismatches: [TopicMismatch] = []
    /// Topics whose configs the broker did not report, so they could not be checked.
    public var unverifiedConfig: [String] = []

    public init(declarations: TopicDeclarations, existing: [String: ExistingTopic]) {
        for topic in declarations.topics {
            guard let actual = existing[topic.name] else {
                create.append(topic)
                continue
            }
            var found: [TopicMismatch] = []
            if actual.partitions != topic.partitions {
                found.append(TopicMismatch(topic: topic.name, setting: "partitions",
                                           declared: "\(topic.partitions)", actual: "\(actual.partitions)"))
            }
            if actual.replicationFactor != Int(topic.replicationFactor) {
                found.append(TopicMismatch(topic: topic.name, setting: "replication_factor",
                                           declared: "\(topic.replicationFactor)", actual: "\(actual.replicationFactor)"))
            }
            if let config = actual.config {
                for (key, declared) in topic.config.sorted(by: { $0.key < $1.key }) {
                    let value = config[key]?.value
                    if value != declared {
                        found.append(TopicMismatch(topic: topic.name, setting: key, declared: declared,
                                                   actual: value ?? "unset"))
                    }
                }
            } else if !topic.config.isEmpty {
                unverifiedConfig.append(topic.name)
            }
            if found.isEmpty { unchanged.append(topic.name) } else { mismatches += found }
        }
    }
}
