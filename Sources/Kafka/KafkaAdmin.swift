import CRdKafka
import Logging
import Synchronization

/// A topic to create.
public struct TopicSpecification: Sendable, Equatable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int16
    public var config: [String: String]

    public init(name: String, partitions: Int32, replicationFactor: Int16, config: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.config = config
    }
}

/// A topic as the broker's metadata describes it.
public struct TopicDescription: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public var id: Int32
        public var leader: Int32
        public var replicas: [Int32]
    }

    public var name: String
    public var partitions: [Partition]

    /// The replica count of the first partition (all partitions have the same when created here).
    public var replicationFactor: Int { partitions.first?.replicas.count ?? 0 }
}

/// One topic configuration value as the broker reports it.
public struct TopicConfigEntry: Sendable, Equatable {
    public var value: String?
    /// True when the value is the broker's default rather than set on the topic.
    public var isDefault: Bool

    public init(value: String?, isDefault: Bool) {
        self.value = value
        self.isDefault = isDefault
    }
}

public final class KafkaAdmin: Sendable {
    private let client: NativeClient
    private let closed = Atomic<Bool>(false)

    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        client = try NativeClient(role: .admin, configuration: KafkaConfiguration.defaults.merging(configuration), logger: logger)
    }

    deinit {
        if !closed.load(ordering: .acquiring) { client.destroy() }
    }

    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let client = self.client
        await client.run { client.destroy() }
    }

    /// Creates the topics; the result maps each name to nil (created) or its error (for example
    /// `.topicAlreadyExists`).
    public func createTopics(_ topics: [TopicSpecification], timeout: Duration = .seconds(30)) async throws(KafkaError) -> [String: KafkaError?] {
        try checkOpen()
        let client = self.client
        return try await client.run { () throws(KafkaError) in
            let handle = client.handle
            var newTopics: [OpaquePointer?] = []
            defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
            var errorText = [CChar](repeating: 0, count: 512)
            for topic in topics {
                guard let newTopic = rd_kafka_NewTopic_new(topic.name, topic.partitions, Int32(topic.replicationFactor),
                                                           &errorText, errorText.count) else {
                    throw KafkaError(.configuration, "topic \(topic.name): \(textOfCBuffer(errorText))")
                }
                newTopics.append(newTopic)
                for (key, value) in topic.config.sorted(by: { $0.key < $1.key }) {
                    try KafkaError.check(rd_kafka_NewTopic_set_config(newTopic, key, value), "topic \(topic.name) config \(key)")
                }
            }
            return try Self.request(handle, operation: RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout: timeout) { options, queue in
                rd_kafka_CreateTopics(handle, &newTopics, newTopics.count, options, queue)
            } result: { event in
                var count = 0
                let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
                return Self.topicResults(results, count)
            }
        }
    }

    public func deleteTopics(_ names: [String], timeout: Duration = .seconds(30)) async throws(KafkaError) -> [String: KafkaError?] {
        try checkOpen()
        let client = self.client
        return try await client.run { () throws(KafkaError) in
            let handle = client.handle
            var deletions: [OpaquePointer?] = names.map { rd_kafka_DeleteTopic_new($0) }
            defer { deletions.forEach { rd_kafka_DeleteTopic_destroy($0) } }
            return try Self.request(handle, operation: RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout: timeout) { options, queue in
                rd_kafka_DeleteTopics(handle, &deletions, deletions.count, options, queue)
            } result: { event in
                var count = 0
                let results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &count)
                return Self.topicResults(results, count)
            }
        }
    }

    /// Topics known to the broker (internal ones, such as `__consumer_offsets`, included), sorted by name.
    public func describeTopics(timeout: Duration = .seconds(10)) async throws(KafkaError) -> [TopicDescription] {
        try checkOpen()
        let client = self.client
        return try await client.run { () throws(KafkaError) in
            let handle = client.handle
            var metadata: UnsafePointer<rd_kafka_metadata>?
            try KafkaError.check(rd_kafka_metadata(handle, 1, nil, &metadata, timeout.milliseconds), "metadata")
            guard let metadata else { return [] }
            defer { rd_kafka_metadata_destroy(metadata) }
            var topics: [TopicDescription] = []
            for i in 0..<Int(metadata.pointee.topic_cnt) {
                let topic = metadata.pointee.topics[i]
                if topic.err != RD_KAFKA_RESP_ERR_NO_ERROR { continue }
                let partitions = (0..<Int(topic.partition_cnt)).map { j in
                    let p = topic.partitions[j]
                    return TopicDescription.Partition(
                        id: p.id, leader: p.leader,
                        replicas: (0..<Int(p.replica_cnt)).map { p.replicas[$0] })
                }
                topics.append(TopicDescription(name: String(cString: topic.topic),
                                               partitions: partitions.sorted { $0.id < $1.id }))
            }
            return topics.sorted { $0.name < $1.name }
        }
    }

    /// The configuration of each topic, as the broker reports it.
    public func describeConfigs(topics: [String], timeout: Duration = .seconds(10)) async throws(KafkaError) -> [String: [String: TopicConfigEntry]] {
        try checkOpen()
        guard !topics.isEmpty else { return [:] }
        let client = self.client
        return try await client.run { () throws(KafkaError) in
            let handle = client.handle
            var resources: [OpaquePointer?] = topics.map { rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, $0) }
            defer { resources.forEach { rd_kafka_ConfigResource_destroy($0) } }
            let outcome: Result<[String: [String: TopicConfigEntry]], KafkaError> =
                try Self.request(handle, operation: RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout: timeout) { options, queue in
                    rd_kafka_DescribeConfigs(handle, &resources, resources.count, options, queue)
                } result: { event in
                    var count = 0
                    guard let described = rd_kafka_DescribeConfigs_result_resources(
                        rd_kafka_event_DescribeConfigs_result(event), &count) else { return .success([:]) }
                    var configs: [String: [String: TopicConfigEntry]] = [:]
                    for i in 0..<count {
                        let resource = described[i]
                        let name = String(cString: rd_kafka_ConfigResource_name(resource))
                        let err = rd_kafka_ConfigResource_error(resource)
                        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                            return .failure(KafkaError(err, context: "describe configs of \(name)"))
                        }
                        var entryCount = 0
                        var entries: [String: TopicConfigEntry] = [:]
                        if let list = rd_kafka_ConfigResource_configs(resource, &entryCount) {
                            for j in 0..<entryCount {
                                let entry = list[j]
                                entries[String(cString: rd_kafka_ConfigEntry_name(entry))] = TopicConfigEntry(
                                    value: rd_kafka_ConfigEntry_value(entry).map { String(cString: $0) },
                                    isDefault: rd_kafka_ConfigEntry_is_default(entry) != 0)
                            }
                        }
                        configs[name] = entries
                    }
                    return .success(configs)
                }
            return try outcome.get()
        }
    }

    private func checkOpen() throws(KafkaError) {
        if closed.load(ordering: .acquiring) { throw KafkaError(.closed, "admin client is closed") }
    }

    /// Runs one admin request and waits for its result event. Call on the client's queue.
    private static func request<T>(_ handle: OpaquePointer, operation: rd_kafka_admin_op_t, timeout: Duration,
                                   send: (OpaquePointer?, OpaquePointer?) -> Void,
                                   result: (OpaquePointer) -> T) throws(KafkaError) -> T {
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, operation)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errorText = [CChar](repeating: 0, count: 512)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.milliseconds, &errorText, errorText.count)
        if operation == RD_KAFKA_ADMIN_OP_CREATETOPICS || operation == RD_KAFKA_ADMIN_OP_DELETETOPICS {
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout.milliseconds, &errorText, errorText.count)
        }
        send(options, queue)
        guard let event = rd_kafka_queue_poll(queue, timeout.milliseconds + 5_000) else {
            throw KafkaError(.timeout, "no answer from the broker within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            throw KafkaError(.librdkafka(err.rawValue), text)
        }
        return result(event)
    }

    private static func topicResults(_ results: UnsafeMutablePointer<OpaquePointer?>?, _ count: Int) -> [String: KafkaError?] {
        var outcome: [String: KafkaError?] = [:]
        guard let results else { return outcome }
        for i in 0..<count {
            let result = results[i]
            let name = String(cString: rd_kafka_topic_result_name(result))
            let err = rd_kafka_topic_result_error(result)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                outcome[name] = .some(nil)
            } else {
                let text = rd_kafka_topic_result_error_string(result).map { String(cString: $0) } ?? ""
                outcome[name] = KafkaError(.librdkafka(err.rawValue), "\(name): \(text)")
            }
        }
        return outcome
    }
}
