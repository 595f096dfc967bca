/// The changes of one processed batch of input and the input offsets they reflect, written by
/// `PartitionStore.commit` in one transaction.
///
/// Rules (a batch that breaks one is rejected whole with `.invalidBatch`):
/// - a key is either upserted or deleted in one batch, not both (the order of the two lists would be
///   ambiguous); the same holds for a work in the aggregate lists. Within one list the last entry for
///   a key wins.
/// - offsets are not negative; work ids contain no NUL character (SQLite's text binding ends there).
/// Deleting a key or work that is not stored is not an error.
public struct StoreBatch: Sendable {
    /// Rows of table `records` (key BLOB PRIMARY KEY, value BLOB) to insert or replace.
    public var upsertRecords: [(key: [UInt8], value: [UInt8])]
    public var deleteRecords: [[UInt8]]
    /// Rows of table `aggregates` (work TEXT PRIMARY KEY, line BLOB) to insert or replace.
    public var upsertAggregates: [(work: String, line: [UInt8])]
    public var deleteAggregates: [String]
    /// Topic → next offset to read. Replaces the stored value of each topic given; others are kept.
    public var offsets: [String: Int64]
    /// Amounts added to named counters ("records_processed", ...); a counter starts at 0.
    public var counterIncrements: [String: Int64]

    public init() {
        upsertRecords = []
        deleteRecords = []
        upsertAggregates = []
        deleteAggregates = []
        offsets = [:]
        counterIncrements = [:]
    }

    public var isEmpty: Bool {
        upsertRecords.isEmpty && deleteRecords.isEmpty && upsertAggregates.isEmpty
            && deleteAggregates.isEmpty && offsets.isEmpty && counterIncrements.isEmpty
    }

    /// The first broken rule, in words, or nil.
    func violation() -> String? {
        if let (topic, offset) = offsets.first(where: { $0.value < 0 }) {
            return "offset \(offset) of topic \(topic) is negative"
        }
        if let work = upsertAggregates.first(where: { $0.work.utf8.contains(0) })?.work
            ?? deleteAggregates.first(where: { $0.utf8.contains(0) })
        {
            return "work id \(work.debugDescription) contains a NUL character"
        }
        if !deleteRecords.isEmpty && !upsertRecords.isEmpty {
            let deleted = Set(deleteRecords)
            if let both = upsertRecords.first(where: { deleted.contains($0.key) }) {
                return "record key \(hex(both.key)) is both upserted and deleted"
            }
        }
        if !deleteAggregates.isEmpty && !upsertAggregates.isEmpty {
            // Compared as UTF-8 bytes, as SQLite compares them (Swift's String equality would also
            // identify canonically equivalent spellings, which are different keys in the table).
            let deleted = Set(deleteAggregates.map { Array($0.utf8) })
            if let both = upsertAggregates.first(where: { deleted.contains(Array($0.work.utf8)) }) {
                return "work \(both.work.debugDescription) is both upserted and deleted"
            }
        }
        return nil
    }
}

func hex(_ bytes: [UInt8], limit: Int = 32) -> String {
    let shown = bytes.prefix(limit).map { byte in
        let digits = String(byte, radix: 16)
        return byte < 16 ? "0" + digits : digits
    }.joined()
    return bytes.count > limit ? "0x\(shown)…(\(bytes.count) bytes)" : "0x\(shown)"
}
