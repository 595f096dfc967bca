import ALMState
import Foundation
import Testing

/// Measures `commit` and the bytes on disk; the numbers are in docs/decisions/state-store.md.
/// Skipped unless ALM_STATE_BENCH is set; run it on a release build:
///     ALM_STATE_BENCH=1 swift test -c release --filter StoreBenchmark
/// Keys: 32 pseudo-random bytes (a hash of a record's identity; random order is a B-tree's worst
/// case). Values: 100 pseudo-random bytes. Every batch also carries one offset and one counter.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ALM_STATE_BENCH"] != nil))
struct StoreBenchmark {
    @Test func oneBatchOf100000UpsertsIntoAnEmptyPartition() throws {
        var data = BenchmarkData()
        var times: [Double] = []
        var bytesPerRecord = 0.0
        for run in 0..<5 {
            let directory = Self.directory("fresh\(run)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = try PartitionStore(directory: directory, partition: 0)
            let batch = data.batch(newRecords: 100_000, offset: 100_000)
            let start = Self.now()
            try store.commit(batch)
            times.append(Self.now() - start)
            store.close()
            bytesPerRecord = Double(Self.databaseBytes(directory)) / 100_000
        }
        times.sort()
        Self.report(
            "100 000 upserts into an empty partition, one commit: median \(Self.ms(times[2]))"
                + " (min \(Self.ms(times[0])), max \(Self.ms(times[4]))), "
                + String(format: "%.0f records/s; ", 100_000 / times[2])
                + String(format: "%.1f bytes/record on disk after close", bytesPerRecord))
    }

    @Test func aPartitionGrowingTo1000000Records() throws {
        var data = BenchmarkData()
        let directory = Self.directory("growing")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try PartitionStore(directory: directory, partition: 0)
        var keys: [[UInt8]] = []
        var line = "growing partition, 100 000 new upserts a commit, at 100k ... 1000k records:"
        for _ in 1...10 {
            let batch = data.batch(newRecords: 100_000, offset: Int64(keys.count + 100_000))
            keys += batch.upsertRecords.map(\.key)
            let start = Self.now()
            try store.commit(batch)
            line += " \(Self.ms(Self.now() - start))"
        }
        Self.report(line)

        var updates = StoreBatch()
        updates.upsertRecords = stride(from: 0, to: keys.count, by: 10).map { (keys[$0], data.bytes(100)) }
        var start = Self.now()
        try store.commit(updates)
        Self.report("100 000 updates of existing keys in a 1 000 000-record partition: \(Self.ms(Self.now() - start))")

        start = Self.now()
        for number in 1...100 {
            try store.commit(data.batch(newRecords: 1_000, offset: Int64(keys.count + number * 1_000)))
        }
        let perCommit = (Self.now() - start) / 100
        Self.report(String(format: "1 000 new upserts a commit into that partition: %.1f ms a commit", perCommit * 1000))

        let count = try store.recordCount()
        store.close()
        Self.report(
            String(
                format: "on disk after close: %.1f bytes/record (%d records)",
                Double(Self.databaseBytes(directory)) / Double(count), count))

        start = Self.now()
        let reader = try PartitionStore(directory: directory, partition: 0, readOnly: true)
        let opened = Self.now()
        var seen = 0
        try reader.forEachRecord { _, _ in seen += 1 }
        Self.report(
            "read-only open (quick_check included): \(Self.ms(opened - start));"
                + " forEachRecord over \(seen) records: \(Self.ms(Self.now() - opened))")
        reader.close()
    }

    @Test func theFixedCostOfACommit() throws {
        var data = BenchmarkData()
        let directory = Self.directory("small")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try PartitionStore(directory: directory, partition: 0)
        try store.commit(data.batch(newRecords: 10_000, offset: 10_000))
        let start = Self.now()
        for number in 1...1_000 {
            try store.commit(data.batch(newRecords: 10, offset: Int64(10_000 + number * 10)))
        }
        let perCommit = (Self.now() - start) / 1_000
        Self.report(
            String(format: "10 new upserts a commit into a 10 000-record partition: %.0f µs a commit", perCommit * 1e6))
        store.close()
    }

    struct BenchmarkData {
        var generator = SplitMix64(seed: 42)

        mutating func bytes(_ count: Int) -> [UInt8] {
            (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }

        mutating func batch(newRecords count: Int, offset: Int64) -> StoreBatch {
            var batch = StoreBatch()
            batch.upsertRecords = (0..<count).map { _ in (bytes(32), bytes(100)) }
            batch.offsets = ["alm.raw.crossref": offset]
            batch.counterIncrements = ["records_processed": Int64(count)]
            return batch
        }
    }

    static func directory(_ name: String) -> URL {
        URL(fileURLWithPath: NSTemporaryDirectory(), isDirectory: true)
            .appendingPathComponent("almstate-bench-\(getpid())-\(name)", isDirectory: true)
    }

    static func databaseBytes(_ directory: URL) -> Int {
        fileSize(PartitionStore.fileURL(directory: directory, partition: 0).path)
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    static func ms(_ seconds: Double) -> String { String(format: "%.0f ms", seconds * 1000) }
    static func report(_ line: String) { print("StoreBenchmark: " + line) }
}
