import Foundation

@testable import ALMState

/// Runs `body` with a new empty directory that is deleted afterwards.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let url = URL(fileURLWithPath: NSTemporaryDirectory(), isDirectory: true)
        .appendingPathComponent("almstate-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}

/// Everything a store holds, read back for comparison.
struct StoredState: Equatable, CustomStringConvertible {
    var records: [[UInt8]: [UInt8]] = [:]
    var recordKeysInOrder: [[UInt8]] = []
    var aggregates: [String: [UInt8]] = [:]
    var aggregateWorksInOrder: [String] = []
    var offsets: [String: Int64] = [:]
    var counters: [String: Int64] = [:]

    init() {}

    /// Reads everything through one view, so the parts come from one committed state.
    init(of store: PartitionStore) throws {
        self = try store.read { view in try StoredState(view: view) }
    }

    init(view: StoreView) throws {
        try view.forEachRecord { key, value in
            records[key] = value
            recordKeysInOrder.append(key)
        }
        try view.forEachAggregate { work, line in
            aggregates[work] = line
            aggregateWorksInOrder.append(work)
        }
        offsets = try view.offsets()
        counters = try view.counters()
    }

    var description: String {
        "\(records.count) records, \(aggregates.count) aggregates, offsets \(offsets), counters \(counters)"
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The key of record number `index`: its big-endian bytes, so key order is number order.
func recordKey(_ index: Int) -> [UInt8] {
    withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) }
}

/// A 100-byte value that depends on `index` and `generation`.
func recordValue(_ index: Int, generation: Int = 0) -> [UInt8] {
    var generator = SplitMix64(seed: UInt64(index) &* 31 &+ UInt64(generation))
    let words = (0..<13).map { _ in generator.next() }
    return words.withUnsafeBytes { Array($0.prefix(100)) }
}

func copyDatabaseFiles(of databaseURL: URL, into directory: URL) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    // The database and its WAL as they are on disk at this instant, as a killed process leaves them.
    // The -shm index is not copied: it is rebuilt from the WAL when the copy is opened.
    for suffix in ["", "-wal"] {
        let source = databaseURL.path + suffix
        guard FileManager.default.fileExists(atPath: source) else { continue }
        try FileManager.default.copyItem(
            atPath: source, toPath: directory.appendingPathComponent(databaseURL.lastPathComponent + suffix).path)
    }
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small generator whose sequence is fixed by its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct InjectedFailure: Error {}
