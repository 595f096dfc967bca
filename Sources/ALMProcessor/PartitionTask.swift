import ALMAggregation
import ALMState
import Foundation
import Logging
import Synchronization

/// The state of one partition number p: the engine holding the deciding records of the works keyed to
/// p (across every raw topic), the store they are saved in, and the input offsets they reflect.
final class PartitionTask {
    let partition: Int32
    let engine: PartitionEngine
    private let store: PartitionStore
    /// Set by `close`; a commit after it (the pipeline's previous batch, after a revocation) is skipped.
    private let closed = Mutex(false)
    /// Next offset to read per topic: what the state (stored, plus applied since) reflects.
    private(set) var offsets: [String: Int64]
    private var counterIncrements: [String: Int64] = [:]
    private var offsetsChanged = false

    private init(partition: Int32, engine: PartitionEngine, store: PartitionStore, offsets: [String: Int64]) {
        self.partition = partition
        self.engine = engine
        self.store = store
        self.offsets = offsets
    }

    /// Opens the partition's store and loads its state. A store that cannot be read, or whose records
    /// do not load, is removed: the partition is then rebuilt from the earliest offsets.
    static func open(directory: URL, partition: Int32, rules: AggregationRules, logger: Logger) throws -> PartitionTask {
        do {
            return try load(directory: directory, partition: partition, rules: rules)
        } catch let error as StoreError where ![.corrupt, .incompatible].contains(error.code) {
            // Locked by another writer, or an I/O failure: deleting the state would not help.
            throw error
        } catch {
            logger.warning("state of partition \(partition) is unusable; rebuilding it from the earliest offsets",
                           metadata: ["processor.partition": "\(partition)", "error": "\(error)"])
            try PartitionStore.remove(directory: directory, partition: partition)
            return try load(directory: directory, partition: partition, rules: rules)
        }
    }

    private static func load(directory: URL, partition: Int32, rules: AggregationRules) throws -> PartitionTask {
        let store = try PartitionStore(directory: directory, partition: partition)
        let engine = PartitionEngine(rules: rules)
        do {
            try store.forEachAggregate { _, line in engine.restoreAggregate(try WorkAggregate(jsonLine: line)) }
            try store.forEachRecord { key, value in try engine.restore(key: StateKey(bytes: key), value: value) }
            engine.discardChanges()
            return PartitionTask(partition: partition, engine: engine, store: store, offsets: try store.offsets())
        } catch {
            store.close()
            throw error
        }
    }

    /// Where to start reading `topic`: the stored next offset, or the beginning when there is none.
    func startOffset(for topic: String) -> Int64 {
        offsets[topic] ?? -2  // librdkafka's RD_KAFKA_OFFSET_BEGINNING
    }

    /// True when the state already reflects this record (a re-delivery after a seek or restart).
    func alreadyReflects(topic: String, offset: Int64) -> Bool {
        offset < (offsets[topic] ?? 0)
    }

    func advance(topic: String, pastOffset offset: Int64, counter: String) {
        offsets[topic] = offset + 1
        offsetsChanged = true
        counterIncrements[counter, default: 0] += 1
    }

    /// Takes what changed since the last commit: the store batch (state, aggregates, offsets and
    /// counters, to be written in one transaction); its aggregate lines are also what is published.
    /// Expired usage records are forgotten here, so their deletion is part of the same transaction.
    func drain() -> StoreBatch? {
        engine.forgetExpired()
        let changes = engine.drainChanges()
        let lines = changes.aggregateLines
        guard offsetsChanged || !changes.upserts.isEmpty || !changes.deletes.isEmpty || !lines.isEmpty else { return nil }
        var batch = StoreBatch()
        batch.upsertRecords = changes.upserts.map { ($0.key.bytes, $0.value) }
        batch.deleteRecords = changes.deletes.map(\.bytes)
        batch.upsertAggregates = lines
        batch.offsets = offsets
        batch.counterIncrements = counterIncrements
        counterIncrements.removeAll()
        offsetsChanged = false
        return batch
    }

    /// Writes a drained batch; false when the task was closed meanwhile (nothing written).
    func commit(_ batch: StoreBatch) throws -> Bool {
        try closed.withLock { closed in
            guard !closed else { return false }
            try store.commit(batch)
            return true
        }
    }

    func close() {
        closed.withLock { closed in
            guard !closed else { return }
            closed = true
            store.close()
        }
    }
}
