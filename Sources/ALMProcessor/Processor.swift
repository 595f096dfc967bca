import ALMAggregation
import ALMCore
import ALMRuntime
import ALMState
import Foundation
import Kafka
import Logging
import Synchronization

public struct ProcessorSettings: Sendable {
    public var kafka: KafkaConfiguration
    public var declarations: TopicDeclarations
    public var stateDirectory: URL
    public var rules: AggregationRules
    public var groupID = "alm-processor"
    public var metricsTopic = "alm.metrics"
    public var deadLetterTopic = "alm.dlq"
    public var maxBatchRecords = 5_000
    /// While catching up (polls return full batches), the changes of several polls are drained, published
    /// and stored together, once this many records have been applied or `maxDrainInterval` has passed: a
    /// work touched by every poll is then published and stored once, not once per poll. A poll that
    /// returns less than a full batch (the input is caught up) drains at once.
    public var drainRecords = 25_000
    public var maxDrainInterval: Duration = .milliseconds(500)
    /// Stop once every assigned partition has reached its end (batch mode).
    public var untilEnd = false
    /// Read every partition directly instead of joining the group (replay): nothing is committed.
    public var assignAllPartitions = false
    /// Skip records whose Kafka timestamp is after this instant (milliseconds since the epoch).
    public var asOfMilliseconds: Int64?

    public init(kafka: KafkaConfiguration, declarations: TopicDeclarations, stateDirectory: URL, rules: AggregationRules) {
        self.kafka = kafka
        self.declarations = declarations
        self.stateDirectory = stateDirectory
        self.rules = rules
    }

    /// librdkafka properties the processor sets unless the configuration does.
    public static let consumerDefaults = KafkaConfiguration([
        // A short session makes rebalances quick (and the dev broker joins after half of it).
        "session.timeout.ms": "10000",
        "heartbeat.interval.ms": "1000",
    ])
}

public struct ProcessorSummary: Sendable, Equatable {
    public var recordsProcessed = 0
    public var recordsRejected = 0
    /// Valid usage records that arrived after their source's horizon (sent to the dead-letter topic).
    public var recordsLate = 0
    public var recordsSkippedAsOf = 0
    public var aggregatesPublished = 0
    public var partitions: [Int32] = []
}

/// `alm process`: consumes every raw topic, sends invalid records to the dead-letter topic, applies the
/// rest to the partition engines and, once per polled batch: publishes the changed aggregates and dead
/// letters, and once the broker has acknowledged them writes each partition's state together with the
/// offsets it reflects in one transaction; offsets go to Kafka (for lag monitoring only) about once a
/// second. Batches are pipelined: while batch N's outputs wait for their acknowledgements and its state
/// is written, batch N+1 is polled and applied in memory; N+1 is drained only after N is stored.
///
/// Exactly once for state: after a crash the stored offsets match the stored state, so processing
/// resumes where the state ends. The output topics are at least once: a crash between publishing and
/// storing republishes the same aggregates (compacted, latest wins) and dead letters (their
/// `alm.source.*` headers identify duplicates).
public final class Processor: Sendable {
    public let settings: ProcessorSettings
    private let logger: Logger
    private let tasks = Mutex<[Int32: TaskBox]>([:])
    private let joined = Atomic<Bool>(false)

    /// True once the group has given this instance its share (possibly none) and its state is open:
    /// the readiness of `alm process --health-port`.
    public var isReady: Bool { joined.load(ordering: .acquiring) }

    public init(settings: ProcessorSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func run(shouldStop: @escaping @Sendable () -> Bool = { false }) async throws -> ProcessorSummary {
        try FileManager.default.createDirectory(at: settings.stateDirectory, withIntermediateDirectories: true)
        let rawTopics = settings.declarations.rawTopics
        guard !rawTopics.isEmpty else { throw ProcessorError("topics.yaml declares no raw topics") }

        var kafka = ProcessorSettings.consumerDefaults.merging(settings.kafka)
        if kafka["group.id"] == nil { kafka["group.id"] = settings.groupID }
        if settings.untilEnd { kafka["enable.partition.eof"] = "true" }
        let consumer = try KafkaConsumer(configuration: kafka, logger: logger) { [self] event in
            rebalance(event)
        }
        let producer = try KafkaProducer(configuration: settings.kafka, logger: logger)

        var assignedDirectly: Set<TopicPartition> = []
        if settings.assignAllPartitions {
            let all = rawTopics.flatMap { topic in (0..<topic.partitions).map { TopicPartition(topic.name, $0) } }
            let starts = rebalance(.assigned(all))
            try consumer.assign(starts)
            assignedDirectly = Set(all)
        } else {
            try consumer.subscribe(topics: rawTopics.map(\.name))
        }

        var summary = ProcessorSummary()
        var ended: Set<TopicPartition> = []
        /// Applied since the last drain.
        var undrained = BatchOutputs()
        var lastDrain = ContinuousClock.now
        /// The previous drain: its outputs being acknowledged, then its state being written.
        var inFlight: Task<[TopicPartitionOffset], any Error>?
        var kafkaOffsets = KafkaOffsetCommits()
        /// Waits for the previous drain to be stored, then drains what was applied since and starts its task.
        func drainApplied() async throws {
            if let previous = inFlight {
                inFlight = nil
                kafkaOffsets.stored(try await previous.value)
            }
            inFlight = persist(undrained, producer: producer, summary: &summary)
            undrained = BatchOutputs()
            lastDrain = .now
        }
        do {
            while !shouldStop() {
                let batch = try await consumer.poll(maxRecords: settings.maxBatchRecords, timeout: .milliseconds(200))
                for error in batch.errors {
                    logger.warning("consumer: \(error)")
                }
                undrained.merge(apply(batch.records, to: &summary))

                for record in batch.records { ended.remove(record.topicPartition) }
                ended.formUnion(batch.endOfPartition.map(\.topicPartition))
                var finished = false
                if settings.untilEnd {
                    let assigned = settings.assignAllPartitions ? assignedDirectly : Set(try consumer.assignment())
                    finished = !assigned.isEmpty && assigned.isSubset(of: ended)
                }
                if finished || batch.records.count < settings.maxBatchRecords || undrained.records >= settings.drainRecords
                    || ContinuousClock.now - lastDrain >= settings.maxDrainInterval {
                    try await drainApplied()
                }
                if !settings.assignAllPartitions, kafkaOffsets.isDue { try await commitOffsets(kafkaOffsets.take(), consumer) }
                if finished { break }
            }
            if !undrained.touched.isEmpty { try await drainApplied() }
            if let previous = inFlight {
                inFlight = nil
                kafkaOffsets.stored(try await previous.value)
            }
            if !settings.assignAllPartitions { try await commitOffsets(kafkaOffsets.take(), consumer) }
        } catch {
            // A batch whose state is not written is read again from the stored offsets: nothing is lost.
            if let inFlight { _ = try? await inFlight.value }
            await consumer.close()
            try? await producer.close(timeout: .seconds(5))
            closeAllTasks()
            throw error
        }
        summary.partitions = tasks.withLock { $0.keys.sorted() }
        await consumer.close()
        try await producer.close()
        closeAllTasks()
        return summary
    }

    // MARK: - One batch

    private struct BatchOutputs {
        var deadLetters: [ProducerRecord] = []
        var touched: Set<Int32> = []
        /// Records read (applied, rejected or skipped).
        var records = 0

        mutating func merge(_ other: BatchOutputs) {
            deadLetters += other.deadLetters
            touched.formUnion(other.touched)
            records += other.records
        }
    }

    private func apply(_ records: [ConsumerRecord], to summary: inout ProcessorSummary) -> BatchOutputs {
        var outputs = BatchOutputs()
        tasks.withLock { tasks in
            for record in records {
                guard let task = tasks[record.partition]?.task else {
                    // Not ours (any more): whoever owns the partition reads it from its own offsets.
                    continue
                }
                if task.alreadyReflects(topic: record.topic, offset: record.offset) { continue }
                outputs.touched.insert(record.partition)
                outputs.records += 1
                if let asOf = settings.asOfMilliseconds, let timestamp = record.timestampMs, timestamp > asOf {
                    task.advance(topic: record.topic, pastOffset: record.offset, counter: "records_after_as_of")
                    summary.recordsSkippedAsOf += 1
                    continue
                }
                switch RecordIntake.examine(record) {
                case .valid(let event):
                    if case .late(let horizon) = task.engine.admit(event) {
                        let (field, message) = RecordIntake.lateness(of: event, horizon: horizon)
                        outputs.deadLetters.append(RecordIntake.deadLetter(
                            for: record, code: "late", field: field, message: message, topic: settings.deadLetterTopic))
                        task.advance(topic: record.topic, pastOffset: record.offset, counter: "records_late")
                        summary.recordsLate += 1
                        continue
                    }
                    task.advance(topic: record.topic, pastOffset: record.offset, counter: "records_processed")
                    summary.recordsProcessed += 1
                case .rejected(let code, let field, let message):
                    outputs.deadLetters.append(RecordIntake.deadLetter(
                        for: record, code: code, field: field, message: message, topic: settings.deadLetterTopic))
                    task.advance(topic: record.topic, pastOffset: record.offset, counter: "records_rejected")
                    summary.recordsRejected += 1
                }
            }
        }
        return outputs
    }

    /// Drains what the batch changed and starts publishing it; the task then writes the state once the
    /// broker has acknowledged every output (outputs first, then state: a crash in between republishes,
    /// never loses) and returns the offsets it stored. Nil when the batch touched no partition.
    private func persist(_ outputs: BatchOutputs, producer: KafkaProducer,
                         summary: inout ProcessorSummary) -> Task<[TopicPartitionOffset], any Error>? {
        guard !outputs.touched.isEmpty else { return nil }
        let (drained, metrics) = tasks.withLock { tasks in
            var drained: [(TaskBox, StoreBatch)] = []
            var metrics: [ProducerRecord] = []
            for partition in outputs.touched.sorted() {
                guard let box = tasks[partition], let batch = box.task.drain() else { continue }
                drained.append((box, batch))
                for (work, line) in batch.upsertAggregates {
                    metrics.append(ProducerRecord(topic: settings.metricsTopic, key: Array(work.utf8), value: line))
                }
            }
            return (drained, metrics)
        }
        let records = outputs.deadLetters + metrics
        summary.aggregatesPublished += metrics.count
        let pending = PendingBatch(drained)
        return Task {
            if !records.isEmpty { try await producer.sendAll(records) }
            return try pending.commit()
        }
    }

    private func commitOffsets(_ offsets: [TopicPartitionOffset], _ consumer: KafkaConsumer) async throws {
        guard !offsets.isEmpty else { return }
        do {
            try await consumer.commit(offsets)
        } catch {
            // Offsets in Kafka only serve lag monitoring; the state store holds the real ones.
            logger.warning("offset commit failed: \(error)")
        }
    }

    // MARK: - Partition ownership

    /// Runs on the consumer's thread (inside poll or close), or directly for a manual assignment.
    @discardableResult
    private func rebalance(_ event: RebalanceEvent) -> [TopicPartitionOffset] {
        defer { if case .assigned = event { joined.store(true, ordering: .releasing) } }
        switch event {
        case .assigned(let partitions):
            var starts: [TopicPartitionOffset] = []
            for number in Set(partitions.map(\.partition)).sorted() {
                let box: TaskBox
                if let open = tasks.withLock({ $0[number] }) {
                    box = open
                } else {
                    do {
                        let task = try PartitionTask.open(directory: settings.stateDirectory, partition: number,
                                                          rules: settings.rules, logger: logger)
                        box = TaskBox(task)
                        tasks.withLock { $0[number] = box }
                        logger.info("partition \(number) loaded", metadata: [
                            "processor.partition": "\(number)", "processor.records": "\(task.engine.recordCount)"])
                    } catch {
                        // Without its state the partition cannot be processed; reading it would lose data.
                        logger.critical("cannot open the state of partition \(number): \(error)")
                        continue
                    }
                }
                for partition in partitions where partition.partition == number {
                    starts.append(TopicPartitionOffset(partition, offset: box.task.startOffset(for: partition.topic)))
                }
            }
            return starts
        case .revoked(let partitions):
            let numbers = Set(partitions.map(\.partition))
            let closing = tasks.withLock { tasks in numbers.compactMap { tasks.removeValue(forKey: $0) } }
            for box in closing { box.task.close() }
            return []
        }
    }

    private func closeAllTasks() {
        let all = tasks.withLock { tasks in
            defer { tasks.removeAll() }
            return Array(tasks.values)
        }
        for box in all { box.task.close() }
    }
}

/// A partition task's engine and offsets are used by one thread at a time: the processing loop, or the
/// consumer's thread during a rebalance, which happens inside the loop's own poll. Its store is also
/// written by the previous batch's pipeline task; `PartitionTask` serialises that with closing.
final class TaskBox: @unchecked Sendable {
    let task: PartitionTask
    init(_ task: PartitionTask) { self.task = task }
}

/// The drained store batches of one polled batch, written once its outputs are acknowledged.
private struct PendingBatch: @unchecked Sendable {  // each StoreBatch is a value; see TaskBox
    let batches: [(TaskBox, StoreBatch)]
    init(_ batches: [(TaskBox, StoreBatch)]) { self.batches = batches }

    /// Writes each partition's batch (skipping partitions closed since, which are read again from their
    /// stored offsets by whoever owns them next); returns the offsets stored.
    func commit() throws -> [TopicPartitionOffset] {
        var stored: [TopicPartitionOffset] = []
        for (box, batch) in batches {
            guard try box.task.commit(batch) else { continue }
            stored += batch.offsets.map { TopicPartitionOffset($0.key, box.task.partition, offset: $0.value) }
        }
        return stored
    }
}

/// The stored offsets to commit to Kafka (for lag monitoring only), at most about once a second.
private struct KafkaOffsetCommits {
    private var latest: [TopicPartition: Int64] = [:]
    private var lastCommit = ContinuousClock.now

    mutating func stored(_ offsets: [TopicPartitionOffset]) {
        for offset in offsets { latest[offset.topicPartition] = offset.offset }
    }

    var isDue: Bool { !latest.isEmpty && ContinuousClock.now - lastCommit >= .seconds(1) }

    mutating func take() -> [TopicPartitionOffset] {
        defer {
            latest.removeAll(keepingCapacity: true)
            lastCommit = .now
        }
        return latest.map { TopicPartitionOffset($0.key, offset: $0.value) }
    }
}

public struct ProcessorError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
