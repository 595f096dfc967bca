import ALMAggregation
import Foundation
import Kafka
import Logging
import Synchronization

/// Follows `alm.metrics` from its beginning into a `WorkIndex`, so the API stays current while
/// `alm process` runs. Reads outside any consumer group (every `alm serve` sees every partition).
public final class MetricsFollower: Sendable {
    public let topic: String
    public let partitions: Int32
    private let index: WorkIndex
    private let kafka: KafkaConfiguration
    private let logger: Logger
    /// Partitions read up to the end seen at start; all of them: caught up.
    private let reachedEnd = Mutex<Set<Int32>>([])
    private let malformed = Atomic<Int>(0)

    public init(topic: String, partitions: Int32, index: WorkIndex, kafka: KafkaConfiguration, logger: Logger) {
        self.topic = topic
        self.partitions = partitions
        self.index = index
        self.kafka = kafka
        self.logger = logger
    }

    /// True once every partition has been read to its end at least once.
    public var caughtUp: Bool { reachedEnd.withLock { $0.count } >= Int(partitions) }
    public var malformedRecords: Int { malformed.load(ordering: .relaxed) }

    /// Runs until the task is cancelled.
    public func run() async throws {
        var configuration = kafka
        configuration["group.id"] = configuration["group.id"] ?? "alm-serve-\(UUID().uuidString.lowercased())"
        configuration["enable.partition.eof"] = "true"
        configuration["enable.auto.commit"] = "false"
        // Fresh numbers soon: a broker that holds an empty fetch for fetch.wait.max.ms (500 by default)
        // would make every change wait that long.
        if configuration["fetch.wait.max.ms"] == nil { configuration["fetch.wait.max.ms"] = "100" }
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        do {
            try consumer.assign((0..<partitions).map { TopicPartitionOffset(topic, $0, offset: TopicPartitionOffset.beginning) })
            try await follow(consumer)
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
    }

    private func follow(_ consumer: KafkaConsumer) async throws {
        while !Task.isCancelled {
            let batch = try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
            for error in batch.errors { logger.warning("reading \(topic): \(error)") }
            let now = Date()
            for record in batch.records {
                guard let work = record.keyString else { continue }
                if record.value.isEmpty {
                    index.apply(work: work, aggregate: nil, at: now)
                    continue
                }
                do {
                    index.apply(work: work, aggregate: try WorkAggregate(jsonLine: record.value), at: now)
                } catch {
                    malformed.add(1, ordering: .relaxed)
                    logger.warning("\(topic)[\(record.partition)]@\(record.offset): not an aggregate: \(error)")
                }
            }
            if !batch.endOfPartition.isEmpty {
                reachedEnd.withLock { $0.formUnion(batch.endOfPartition.map(\.partition)) }
            }
        }
    }
}
