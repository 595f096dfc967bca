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
        /// Handed to the partitions' lanes since the last drain.
        var undrained = (partitions: Set<Int32>(), records: 0)
        var lastDrain = ContinuousClock.now
        /// The previous drain: its outputs being acknowledged, then its state being written.
        var inFlight: Task<PersistedBatch, any Error>?
        var kafkaOffsets = KafkaOffsetCommits()
        func settle(_ task: Task<PersistedBatch, any Error>) async throws {
            let persisted = try await task.value
            kafkaOffsets.stored(persisted.offsets)
            persisted.outcome.add(to: &summary)
            summary.aggregatesPublished += persisted.aggregatesPublished
        }
        /// Waits for the previous drain to be stored, then drains what was applied since and starts its task.
        func drainApplied() async throws {
            if let previous = inFlight {
                inFlight = nil
                try await settle(previous)
            }
            inFlight = persist(undrained.partitions, producer: producer)
            undrained = ([], 0)
            lastDrain = .now
        }
        do {
            while !shouldStop() {
                let batch = try await consumer.poll(maxRecords: settings.maxBatchRecords, timeout: .milliseconds(200))
                for error in batch.errors {
                    logger.warning("consumer: \(error)")
                }
                undrained.partitions.formUnion(dispatch(batch.records))
                undrained.records += batch.records.count

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
            if !undrained.partitions.isEmpty { try await drainApplied() }
            if let previous = inFlight {
                inFlight = nil
                try await settle(previous)
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

    /// Hands each partition's records of a polled batch to the partition's lane, which applies them in
    /// their order while the loop polls on: partitions share nothing, so lanes run side by side. Returns
    /// the partitions handed records.
    private func dispatch(_ records: [ConsumerRecord]) -> Set<Int32> {
        var byPartition: [Int32: [ConsumerRecord]] = [:]
        for record in records { byPartition[record.partition, default: []].append(record) }
        return tasks.withLock { tasks in
            var dispatched: Set<Int32> = []
            for (partition, records) in byPartition {
                // Not ours (any more): whoever owns the partition reads it from its own offsets.
                guard let box = tasks[partition] else { continue }
                dispatched.insert(partition)
                box.lane.async { [self] in box.accumulate(apply(records, to: box.task)) }
            }
            return dispatched
        }
    }

    /// Runs on the partition's lane.
    private func apply(_ records: [ConsumerRecord], to task: PartitionTask) -> PartitionOutcome {
        var outcome = PartitionOutcome()
        for record in records {
            if task.alreadyReflects(topic: record.topic, offset: record.offset) { continue }
            if let asOf = settings.asOfMilliseconds, let timestamp = record.timestampMs, timestamp > asOf {
                task.advance(topic: record.topic, pastOffset: record.offset, counter: "records_after_as_of")
                outcome.skippedAsOf += 1
                continue
            }
            switch RecordIntake.examine(record) {
            case .valid(let event):
                if case .late(let horizon) = task.engine.admit(event) {
                    let (field, message) = RecordIntake.lateness(of: event, horizon: horizon)
                    outcome.deadLetters.append(RecordIntake.deadLetter(
                        for: record, code: "late", field: field, message: message, topic: settings.deadLetterTopic))
                    task.advance(topic: record.topic, pastOffset: record.offset, counter: "records_late")
                    outcome.late += 1
                    continue
                }
                task.advance(topic: record.topic, pastOffset: record.offset, counter: "records_processed")
                outcome.processed += 1
            case .rejected(let code, let field, let message):
                outcome.deadLetters.append(RecordIntake.deadLetter(
                    for: record, code: code, field: field, message: message, topic: settings.deadLetterTopic))
                task.advance(topic: record.topic, pastOffset: record.offset, counter: "records_rejected")
                outcome.rejected += 1
            }
        }
        return outcome
    }

    /// Drains what the partitions applied (on their lanes, after what was handed to them so far and
    /// before anything handed later) and starts publishing it; the task then writes the state once the
    /// broker has acknowledged every output (outputs first, then state: a crash in between republishes,
    /// never loses) and returns what it stored. Nil when no partition was handed records.
    private func persist(_ partitions: Set<Int32>, producer: KafkaProducer) -> Task<PersistedBatch, any Error>? {
        guard !partitions.isEmpty else { return nil }
        let boxes = tasks.withLock { tasks in partitions.sorted().compactMap { tasks[$0] } }
        let drained = DispatchGroup()
        let slots = boxes.map { box in
            let slot = DrainSlot()
            box.lane.async(group: drained) { slot.drained = box.drain() }
            return slot
        }
        let metricsTopic = settings.metricsTopic
        return Task {
            await withCheckedContinuation { continuation in
                drained.notify(queue: .global()) { continuation.resume() }
            }
            var outcome = PartitionOutcome()
            var batches: [(TaskBox, StoreBatch)] = []
            var metrics: [ProducerRecord] = []
            for (box, slot) in zip(boxes, slots) {
                guard let (batch, partitionOutcome) = slot.drained else { continue }
                outcome.merge(partitionOutcome)
                guard let batch else { continue }
                batches.append((box, batch))
                for (work, line) in batch.upsertAggregates {
                    metrics.append(ProducerRecord(topic: metricsTopic, key: Array(work.utf8), value: line))
                }
            }
            let records = outcome.deadLetters + metrics
            outcome.deadLetters = []
            if !records.isEmpty { try await producer.sendAll(records) }
            let offsets = try PendingBatch(batches).commit()
            return PersistedBatch(offsets: offsets, outcome: outcome, aggregatesPublished: metrics.count)
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
            for box in closing { box.close() }
            return []
        }
    }

    private func closeAllTasks() {
        let all = tasks.withLock { tasks in
            defer { tasks.removeAll() }
            return Array(tasks.values)
        }
        for box in all { box.close() }
    }
}

/// A partition task and its lane: the serial queue on which its engine and offsets are used (applying
/// batches, draining, closing), in the order the loop hands it work. Its store is also written by the
/// previous drain's pipeline task; `PartitionTask` serialises that with closing.
final class TaskBox: @unchecked Sendable {
    let task: PartitionTask
    let lane: DispatchQueue
    /// What the lane applied since the last drain; used on the lane only.
    private var outcome = PartitionOutcome()

    init(_ task: PartitionTask) {
        self.task = task
        lane = DispatchQueue(label: "alm.processor.partition.\(task.partition)")
    }

    /// On the lane.
    func accumulate(_ applied: PartitionOutcome) { outcome.merge(applied) }

    /// On the lane: the store batch of what changed, and the outcome of what was applied, since the last drain.
    func drain() -> (StoreBatch?, PartitionOutcome) {
        defer { outcome = PartitionOutcome() }
        return (task.drain(), outcome)
    }

    /// After the lane has done what it was handed.
    func close() { lane.sync { task.close() } }
}

/// What applying records produced, per partition, then per drain.
struct PartitionOutcome: Sendable {
    var deadLetters: [ProducerRecord] = []
    var processed = 0, rejected = 0, late = 0, skippedAsOf = 0

    mutating func merge(_ other: PartitionOutcome) {
        deadLetters += other.deadLetters
        processed += other.processed
        rejected += other.rejected
        late += other.late
        skippedAsOf += other.skippedAsOf
    }

    func add(to summary: inout ProcessorSummary) {
        summary.recordsProcessed += processed
        summary.recordsRejected += rejected
        summary.recordsLate += late
        summary.recordsSkippedAsOf += skippedAsOf
    }
}

/// Filled on a partition's lane, read once the drain's group has finished.
private final class DrainSlot: @unchecked Sendable {
    var drained: (StoreBatch?, PartitionOutcome)?
}

/// What a drain's pipeline task stored.
private struct PersistedBatch: Sendable {
    let offsets: [TopicPartitionOffset]
    let outcome: PartitionOutcome
    let aggregatesPublished: Int
}

/// The drained store batches of one polled batch, written once its outputs are acknowledged.
private struct PendingBatch: @unchecked Sendable {  // each StoreBatch is a value; see TaskBox
    let batches: [(TaskBox, StoreBatch)]
    init(_ batches: [(TaskBox, StoreBatch)]) { self.batches = batches }

    /// Writes each partition's batch (skipping partitions closed since, which are read again from their
    /// stored offsets by whoever owns them next); returns the offsets stored.
    /// Partitions are written side by side (each has its own database); the first error is thrown.
    /// Not on the lanes: a commit uses the partition's store only, never its engine.
    func commit() throws -> [TopicPartitionOffset] {
        let results = concurrentMap(batches) { box, batch in Result { try box.task.commit(batch) } }
        var stored: [TopicPartitionOffset] = []
        for ((box, batch), result) in zip(batches, results) {
            guard try result.get() else { continue }
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
