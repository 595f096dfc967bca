import CRdKafka
import Logging
import Synchronization

public enum RebalanceEvent: Sendable, Equatable {
    case assigned([TopicPartition])
    case revoked([TopicPartition])
}

/// A consumer in a group (or with a manual assignment). Offsets are stored and committed only when
/// the application says so; records come in batches, copied out of librdkafka once.
///
/// All blocking librdkafka calls run on the consumer's own serial queue, one at a time.
public final class KafkaConsumer: @unchecked Sendable {  // immutable handles; librdkafka calls are thread-safe
    /// Called on the consumer's thread in the middle of a poll (or close) when partitions move.
    /// For `.assigned`, return the offsets to start from for any of the partitions (for example the
    /// offsets stored with local state); the others start from their committed offset, or
    /// `auto.offset.reset` when none. The return value of `.revoked` is ignored. The listener may
    /// call `commitNow` (it already runs on the consumer's thread) but not the async methods.
    public typealias RebalanceListener = @Sendable (RebalanceEvent) -> [TopicPartitionOffset]

    private let client: NativeClient
    private let consumerQueue: OpaquePointer
    private let closed = Atomic<Bool>(false)
    private let logger: Logger

    public init(configuration: KafkaConfiguration, logger: Logger,
                onRebalance: RebalanceListener? = nil) throws(KafkaError) {
        let merged = KafkaConfiguration.defaults.merging(KafkaConfiguration.consumerDefaults).merging(configuration)
        self.client = try NativeClient(role: .consumer, configuration: merged, logger: logger) { context, conf in
            context.onRebalance = { rk, err, partitions in
                handleRebalance(rk, err, partitions, listener: onRebalance, logger: logger)
            }
            rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        }
        self.logger = logger
        // Route the main queue (rebalances, errors, logs) to the consumer queue that polls read.
        rd_kafka_poll_set_consumer(client.handle)
        self.consumerQueue = rd_kafka_queue_get_consumer(client.handle)
    }

    deinit {
        if !closed.load(ordering: .acquiring) {
            // Queue before handle: rd_kafka_destroy waits for every queue reference to go.
            rd_kafka_queue_destroy(consumerQueue)
            client.destroy()
        }
    }

    public func subscribe(topics: [String]) throws(KafkaError) {
        try checkOpen()
        let list = topics.map { TopicPartitionOffset($0, RD_KAFKA_PARTITION_UA, offset: TopicPartitionOffset.invalid) }
            .makeNativeList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_subscribe(client.handle, list), "subscribe to \(topics.joined(separator: ","))")
    }

    /// Reads the given partitions outside group management, from the given offsets.
    public func assign(_ partitions: [TopicPartitionOffset]) throws(KafkaError) {
        try checkOpen()
        let list = partitions.makeNativeList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_assign(client.handle, list), "assign")
    }

    public func assignment() throws(KafkaError) -> [TopicPartition] {
        try checkOpen()
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try KafkaError.check(rd_kafka_assignment(client.handle, &list), "assignment")
        guard let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return topicPartitionOffsets(list).map(\.topicPartition).sorted()
    }

    /// Waits up to `timeout` for up to `maxRecords` records. Rebalance callbacks run inside.
    public func poll(maxRecords: Int = 1000, timeout: Duration = .milliseconds(100)) async throws(KafkaError) -> ConsumerBatch {
        try checkOpen()
        let ms = timeout.milliseconds
        return try await client.run { [self] () throws(KafkaError) in
            try checkOpen()
            let queue = consumerQueue
            var messages = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: maxRecords)
            let count = rd_kafka_consume_batch_queue(queue, ms, &messages, maxRecords)
            guard count >= 0 else { throw KafkaError(rd_kafka_last_error(), context: "consume") }
            var batch = ConsumerBatch()
            batch.records.reserveCapacity(count)
            var topicNames: [OpaquePointer: String] = [:]
            for message in messages.prefix(count) {
                guard let message else { continue }
                defer { rd_kafka_message_destroy(message) }
                let topic = message.pointee.rkt.map { rkt in
                    if let name = topicNames[rkt] { return name }
                    let name = String(cString: rd_kafka_topic_name(rkt))
                    topicNames[rkt] = name
                    return name
                } ?? ""
                let err = message.pointee.err
                if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    batch.records.append(Self.record(from: message, topic: topic))
                } else if err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    batch.endOfPartition.append(TopicPartitionOffset(topic, message.pointee.partition,
                                                                     offset: message.pointee.offset))
                } else {
                    let detail = Self.payloadText(message) ?? ""
                    let error = KafkaError(err, context: topic.isEmpty ? "consume" : "consume \(topic)[\(message.pointee.partition)]")
                    batch.errors.append(detail.isEmpty ? error : KafkaError(error.code, "\(error.message) (\(detail))"))
                }
            }
            return batch
        }
    }

    /// Marks offsets (the next offset to read) as ready to commit. Does not block.
    public func store(_ offsets: [TopicPartitionOffset]) throws(KafkaError) {
        try checkOpen()
        guard !offsets.isEmpty else { return }
        let list = offsets.makeNativeList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_offsets_store(client.handle, list), "store offsets")
        if let error = firstPartitionError(list) { throw error }
    }

    /// Commits the given offsets, or every stored offset when nil, and waits for the broker.
    public func commit(_ offsets: [TopicPartitionOffset]? = nil) async throws(KafkaError) {
        try checkOpen()
        try await client.run { [self] () throws(KafkaError) in try commitNow(offsets) }
    }

    /// The blocking form of `commit`, for the rebalance listener (which already runs on the
    /// consumer's thread). Do not call it from Swift concurrency's threads.
    public func commitNow(_ offsets: [TopicPartitionOffset]? = nil) throws(KafkaError) {
        let list = offsets.map { $0.makeNativeList() }
        defer { list.map { rd_kafka_topic_partition_list_destroy($0) } }
        let err = rd_kafka_commit(client.handle, list, 0)
        if err == RD_KAFKA_RESP_ERR__NO_OFFSET { return }  // nothing stored since the last commit
        try KafkaError.check(err, "commit")
        if let list, let error = firstPartitionError(list) { throw error }
    }

    /// The group's committed offsets for these partitions (`TopicPartitionOffset.invalid` when none).
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError) -> [TopicPartitionOffset] {
        try checkOpen()
        return try await client.run { [self] () throws(KafkaError) in
            let handle = client.handle
            let list = partitions.makeNativeList()
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_committed(handle, list, timeout.milliseconds), "committed offsets")
            if let error = firstPartitionError(list) { throw error }
            return topicPartitionOffsets(list)
        }
    }

    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        try checkOpen()
        let list = partitions.makeNativeList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_pause_partitions(client.handle, list), "pause")
        if let error = firstPartitionError(list) { throw error }
    }

    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        try checkOpen()
        let list = partitions.makeNativeList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_resume_partitions(client.handle, list), "resume")
        if let error = firstPartitionError(list) { throw error }
    }

    /// Moves the read position of assigned partitions.
    public func seek(_ offsets: [TopicPartitionOffset], timeout: Duration = .seconds(10)) async throws(KafkaError) {
        try checkOpen()
        try await client.run { [self] () throws(KafkaError) in
            let handle = client.handle
            let list = offsets.makeNativeList()
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if let error = rd_kafka_seek_partitions(handle, list, timeout.milliseconds) {
                throw KafkaError(consuming: error, context: "seek")
            }
            if let error = firstPartitionError(list) { throw error }
        }
    }

    /// Low and high watermarks as last seen in fetch responses (no broker round trip). Fetch
    /// responses carry a correct high watermark even on the dev broker, whose ListOffsets does not
    /// (see docs/decisions/dev-broker.md).
    public func cachedWatermarks(_ partition: TopicPartition) throws(KafkaError) -> (low: Int64, high: Int64) {
        try checkOpen()
        var low: Int64 = -1, high: Int64 = -1
        try KafkaError.check(rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high),
                             "watermarks of \(partition)")
        return (low, high)
    }

    /// Leaves the group (revoking partitions through the listener) and releases the client.
    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await client.run { [self] in
            let err = rd_kafka_consumer_close(client.handle)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning("consumer close: \(String(cString: rd_kafka_err2str(err)))")
            }
            rd_kafka_queue_destroy(consumerQueue)
            client.destroy()
        }
    }

    private func checkOpen() throws(KafkaError) {
        if closed.load(ordering: .acquiring) { throw KafkaError(.closed, "consumer is closed") }
    }

    private static func record(from message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) -> ConsumerRecord {
        let m = message.pointee
        let key: [UInt8]? = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        let value: [UInt8] = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        var headers: [KafkaHeader] = []
        var native: OpaquePointer?
        if rd_kafka_message_headers(message, &native) == RD_KAFKA_RESP_ERR_NO_ERROR, let native {
            var index = 0
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(native, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "",
                                           value: bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
                index += 1
            }
        }
        return ConsumerRecord(topic: topic, partition: m.partition, offset: m.offset, key: key, value: value,
                              headers: headers, timestampMs: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp)
    }

    private static func payloadText(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> String? {
        guard let payload = message.pointee.payload, message.pointee.len > 0 else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: payload, count: message.pointee.len), as: UTF8.self)
    }
}

private let rebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = {
    rk, err, partitions, _ in
    guard let rk, let partitions, let context = clientContext(rk) else { return }
    context.onRebalance?(rk, err, partitions)
}

private func handleRebalance(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t,
                             _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>,
                             listener: KafkaConsumer.RebalanceListener?, logger: Logger) {
    let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
    let moved = topicPartitionOffsets(partitions).map(\.topicPartition).sorted()
    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        logger.info("partitions assigned", metadata: ["kafka.partitions": "\(moved.count)"])
        let starts = listener?(.assigned(moved)) ?? []
        for start in starts {
            if let element = rd_kafka_topic_partition_list_find(partitions, start.topic, start.partition) {
                element.pointee.offset = start.offset
            }
        }
        if cooperative {
            if let error = rd_kafka_incremental_assign(rk, partitions) {
                logger.error("incremental assign failed: \(KafkaError(consuming: error))")
            }
        } else {
            let result = rd_kafka_assign(rk, partitions)
            if result != RD_KAFKA_RESP_ERR_NO_ERROR { logger.error("assign failed: \(KafkaError(result))") }
        }
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        logger.info("partitions revoked", metadata: ["kafka.partitions": "\(moved.count)"])
        _ = listener?(.revoked(moved))
        if cooperative {
            if let error = rd_kafka_incremental_unassign(rk, partitions) {
                logger.error("incremental unassign failed: \(KafkaError(consuming: error))")
            }
        } else {
            _ = rd_kafka_assign(rk, nil)
        }
    default:
        logger.error("rebalance error: \(KafkaError(err))")
        _ = rd_kafka_assign(rk, nil)
    }
}

extension Duration {
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
