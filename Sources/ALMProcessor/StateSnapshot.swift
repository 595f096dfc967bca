import ALMAggregation
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
}
