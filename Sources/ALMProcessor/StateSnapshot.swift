import ALMAggregation
import ALMSnapshot
import ALMState
import Foundation

/// What a snapshot is made of, read from the stores of a state directory: every partition's
/// aggregates, the input offsets they reflect, and the record counters. Each partition is read in
/// one consistent state even while a processor writes it.
public struct StateSnapshot: Sendable {
    public var works: [WorkAggregate] = []
    /// topic → partition (decimal) → next offset.
    public var inputOffsets: [String: [String: Int64]] = [:]
    public var counters: [String: Int64] = [:]

    public static func collect(stateDirectory: URL) throws -> StateSnapshot {
        var snapshot = StateSnapshot()
        for partition in try PartitionStore.partitions(in: stateDirectory) {
            let store = try PartitionStore(directory: stateDirectory, partition: partition, readOnly: true)
            defer { store.close() }
            // One read transaction: the offsets, counters and aggregates of the same commit.
            try store.read { view in
                for (topic, offset) in try view.offsets() {
                    snapshot.inputOffsets[topic, default: [:]][String(partition)] = offset
                }
                for (name, value) in try view.counters() { snapshot.counters[name, default: 0] += value }
                try view.forEachAggregate { _, line in snapshot.works.append(try WorkAggregate(jsonLine: line)) }
            }
        }
        return snapshot
    }

    /// Collects the state directory and writes it as a snapshot (safe while a processor writes).
    public static func write(from stateDirectory: URL, with writer: SnapshotWriter, asOf: String? = nil) throws
        -> (directory: URL, manifest: SnapshotManifest) {
        let snapshot = try collect(stateDirectory: stateDirectory)
        return try writer.write(snapshot.works, inputOffsets: snapshot.inputOffsets, recordCounts: snapshot.counters, asOf: asOf)
    }
}

/// How big a state directory is: what `alm process` reports and docs/decisions/processor.md measures.
public struct StateSize: Sendable, Equatable {
    public var partitions = 0
    /// Rows of the `records` tables: deciding records and watermarks.
    public var records = 0
    public var works = 0
    /// Database and WAL files.
    public var bytes: Int64 = 0

    public static func measure(stateDirectory: URL) throws -> StateSize {
        var size = StateSize()
        for partition in try PartitionStore.partitions(in: stateDirectory) {
            let store = try PartitionStore(directory: stateDirectory, partition: partition, readOnly: true)
            defer { store.close() }
            size.partitions += 1
            size.records += try store.recordCount()
            try store.forEachAggregate { _, _ in size.works += 1 }
            size.bytes += try store.fileSizeBytes()
        }
        return size
    }
}
