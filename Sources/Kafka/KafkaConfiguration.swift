import CRdKafka

/// librdkafka properties, passed through untouched (https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md).
///
/// Layers merge left to right: `defaults.merging(file).merging(flags)`, so flags beat the file and the
/// file beats defaults. Keys librdkafka does not know are reported when a client is created.
public struct KafkaConfiguration: Sendable, Equatable {
    public private(set) var properties: [String: String]

    public init(_ properties: [String: String] = [:]) {
        self.properties = properties
    }

    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    /// Returns these properties overridden by `other`'s.
    public func merging(_ other: KafkaConfiguration) -> KafkaConfiguration {
        KafkaConfiguration(properties.merging(other.properties) { _, new in new })
    }

    /// Parses `key=value` (the `-X` flag). The value may itself contain `=`.
    public static func parseAssignment(_ text: String) throws(KafkaError) -> (key: String, value: String) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw KafkaError(.configuration, "expected key=value, got \"\(text)\"")
        }
        let key = String(text[..<eq]).trimmingWhitespace()
        let value = String(text[text.index(after: eq)...])
        guard !key.isEmpty else { throw KafkaError(.configuration, "empty key in \"\(text)\"") }
        return (key, value)
    }

    /// Sensible defaults for this system's clients; every one of them can be overridden.
    public static let defaults = KafkaConfiguration([
        "bootstrap.servers": "127.0.0.1:9092",
        "client.id": "alm",
        // murmur2 like the Java client, so records keyed by work id land on the same partition
        // whichever client produced them (the raw topics are co-partitioned by this key).
        "partitioner": "murmur2_random",
    ])

    /// Properties a producer of this system always wants unless told otherwise.
    public static let producerDefaults = KafkaConfiguration([
        "enable.idempotence": "true",
        "acks": "all",
        "linger.ms": "5",
        "compression.type": "lz4",
    ])

    /// Properties a consumer of this system always wants unless told otherwise: offsets are stored
    /// and committed only by the application (the processor commits what its state reflects).
    public static let consumerDefaults = KafkaConfiguration([
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "range",
    ])

    /// Properties that are only meaningful to one client type; librdkafka warns if a client of the
    /// other type gets them, so each client drops the other side's.
    static let producerOnlyKeys: Set<String> = [
        "enable.idempotence", "acks", "linger.ms", "compression.type", "partitioner",
        "queue.buffering.max.messages", "queue.buffering.max.kbytes", "batch.num.messages", "batch.size",
        "message.timeout.ms", "delivery.timeout.ms", "retries", "retry.backoff.ms",
    ]
    static let consumerOnlyKeys: Set<String> = [
        "group.id", "enable.auto.commit", "enable.auto.offset.store", "auto.offset.reset",
        "partition.assignment.strategy", "session.timeout.ms", "heartbeat.interval.ms",
        "max.poll.interval.ms", "enable.partition.eof", "fetch.min.bytes", "fetch.wait.max.ms",
        "fetch.max.bytes", "max.partition.fetch.bytes", "queued.min.messages", "isolation.level",
        "group.instance.id", "auto.commit.interval.ms", "check.crcs",
    ]

    func properties(for role: ClientRole) -> [String: String] {
        let excluded = switch role {
        case .producer, .admin: Self.consumerOnlyKeys
        case .consumer: Self.producerOnlyKeys
        }
        return properties.filter { !excluded.contains($0.key) }
    }

    /// A new `rd_kafka_conf_t` holding these properties; the caller owns it.
    func makeNative(for role: ClientRole) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(.client, "rd_kafka_conf_new failed") }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties(for: role).sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let reason = textOfCBuffer(errorText)
                throw KafkaError(.configuration, "\(key)=\(value): \(reason)")
            }
        }
        return conf
    }
}

enum ClientRole {
    case producer, consumer, admin
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
