/// A record header. Kafka allows repeated names, so headers are a list, not a dictionary.
public struct KafkaHeader: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    public init(name: String, string: String) {
        self.init(name: name, value: Array(string.utf8))
    }

    public var stringValue: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}

public struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}

/// An offset of a partition: for commits and seeks, the offset of the next record to read.
public struct TopicPartitionOffset: Sendable, Hashable, CustomStringConvertible {
    public var topicPartition: TopicPartition
    public var offset: Int64

    public init(_ topic: String, _ partition: Int32, offset: Int64) {
        self.topicPartition = TopicPartition(topic, partition)
        self.offset = offset
    }

    public init(_ topicPartition: TopicPartition, offset: Int64) {
        self.topicPartition = topicPartition
        self.offset = offset
    }

    public var topic: String { topicPartition.topic }
    public var partition: Int32 { topicPartition.partition }
    public var description: String { "\(topicPartition)@\(offset)" }

    /// Logical offsets understood by librdkafka where an absolute offset is expected.
    public static let beginning: Int64 = -2
    public static let end: Int64 = -1
    public static let stored: Int64 = -1000
    public static let invalid: Int64 = -1001
}

public struct ProducerRecord: Sendable, Hashable {
    public var topic: String
    /// nil lets the partitioner choose from the key.
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch; nil means now.
    public var timestampMs: Int64?

    public init(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?,
                headers: [KafkaHeader] = [], timestampMs: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMs = timestampMs
    }

    public init(topic: String, key: String?, value: String, headers: [KafkaHeader] = []) {
        self.init(topic: topic, key: key.map { Array($0.utf8) }, value: Array(value.utf8), headers: headers)
    }
}

/// The broker's answer for one produced record.
public struct DeliveryReport: Sendable {
    public var topic: String
    public var partition: Int32
    /// The record's offset, or nil when delivery failed.
    public var offset: Int64?
    public var error: KafkaError?
}

public struct ConsumerRecord: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch (create time or log-append time), nil if the broker gave none.
    public var timestampMs: Int64?

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
    public var valueString: String { String(decoding: value, as: UTF8.self) }

    public func header(_ name: String) -> KafkaHeader? { headers.first { $0.name == name } }
}

/// What one poll returned: records in partition order, the partitions that reached their end
/// (with `enable.partition.eof=true`; the offset is the next one to be written), and non-fatal
/// errors librdkafka reported meanwhile.
public struct ConsumerBatch: Sendable {
    public var records: [ConsumerRecord] = []
    public var endOfPartition: [TopicPartitionOffset] = []
    public var errors: [KafkaError] = []

    public init() {}

    public var isEmpty: Bool { records.isEmpty && endOfPartition.isEmpty && errors.isEmpty }
}
