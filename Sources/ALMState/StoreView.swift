import Foundation
import GRDB

/// Reads of one committed state of a partition: every call on one view sees the same transaction,
/// so offsets, records and aggregates read through it always agree, even while a writer commits.
/// Valid only inside the `PartitionStore.read` closure that received it; do not keep it.
public struct StoreView {
    let db: Database
    let path: String

    public func offsets() throws(StoreError) -> [String: Int64] {
        try namedIntegers(sql: "SELECT topic, next_offset FROM offsets", what: "read offsets")
    }

    public func counters() throws(StoreError) -> [String: Int64] {
        try namedIntegers(sql: "SELECT name, value FROM counters", what: "read counters")
    }

    /// Every record, in key order (bytewise, shorter first on a common prefix). Errors of `body` are
    /// rethrown as they are; the store's own are `StoreError`s.
    public func forEachRecord(_ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Void) throws {
        try forEachRow(
            sql: "SELECT key, value FROM records ORDER BY key", what: "read records",
            decode: Self.record, body)
    }

    /// The records whose key begins with `prefix` and, when `after` is given, is greater than `after`
    /// (a cursor: the last key a previous call passed to `body`), in key order, at most `limit` of them
    /// (nil: all). One index range read: `key >= prefix AND key < prefixUpperBound(prefix)`, so it costs
    /// a seek plus the rows read, whatever the table's size. An empty prefix matches every key. Returns
    /// how many records were passed to `body`. Errors of `body` pass through; the store's are `StoreError`s.
    @discardableResult
    public func forEachRecord(
        withPrefix prefix: [UInt8], after: [UInt8]? = nil, limit: Int? = nil,
        _ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Void
    ) throws -> Int {
        precondition((limit ?? 0) >= 0, "a negative limit: \(limit ?? 0)")
        // Blobs compare with memcmp, a shorter blob first on a common prefix: the order of `[UInt8]`'s
        // lexicographicallyPrecedes. An empty Data may bind as NULL, hence the coalesce to x''.
        var conditions = ["key >= coalesce(?, x'')"]
        var arguments: [(any DatabaseValueConvertible)?] = [Data(prefix)]
        if let upper = Self.prefixUpperBound(prefix) {
            conditions.append("key < coalesce(?, x'')")
            arguments.append(Data(upper))
        }
        if let after {
            conditions.append("key > coalesce(?, x'')")
            arguments.append(Data(after))
        }
        var sql = "SELECT key, value FROM records WHERE " + conditions.joined(separator: " AND ") + " ORDER BY key"
        if let limit {
            sql += " LIMIT ?"
            arguments.append(limit)
        }
        var count = 0
        try forEachRow(
            sql: sql, arguments: StatementArguments(arguments), what: "read records by prefix",
            decode: Self.record
        ) { key, value in
            count += 1
            try body(key, value)
        }
        return count
    }

    /// The value stored under `key`, or nil.
    public func record(key: [UInt8]) throws(StoreError) -> [UInt8]? {
        try guarded("read record") {
            let statement = try db.cachedStatement(sql: "SELECT value FROM records WHERE key = coalesce(?, x'')")
            guard let row = try Row.fetchOne(statement, arguments: [Data(key)]) else { return nil }
            return try StoredBytes.decodeRecord(try Self.bytes(row, 0), key: key)
        }
    }

    /// The least byte string greater than every string that begins with `prefix`: the prefix without
    /// its trailing 0xFF bytes, its last byte incremented. nil when there is none (an empty prefix, or
    /// one of only 0xFF bytes): every greater key then has the prefix.
    public static func prefixUpperBound(_ prefix: [UInt8]) -> [UInt8]? {
        var upper = prefix
        while let last = upper.last {
            if last < 0xFF {
                upper[upper.count - 1] = last + 1
                return upper
            }
            upper.removeLast()
        }
        return nil
    }

    /// Counts the records (a scan of the table: SQLite keeps no row count).
    public func recordCount() throws(StoreError) -> Int {
        try guarded("count records") { try Int.fetchOne(db, sql: "SELECT count(*) FROM records") ?? 0 }
    }

    /// Every aggregate, sorted by work id in UTF-8 byte order (SQLite's BINARY collation).
    public func forEachAggregate(_ body: (_ work: String, _ line: [UInt8]) throws -> Void) throws {
        try forEachRow(
            sql: "SELECT work, line FROM aggregates ORDER BY work", what: "read aggregates",
            decode: { row in
                let work = try row.decode(String.self, atIndex: 0)
                return (work, try StoredBytes.decodeAggregate(try Self.bytes(row, 1), work: work))
            }, body)
    }

    /// The line stored for `work` (matched byte for byte), or nil.
    public func aggregate(work: String) throws(StoreError) -> [UInt8]? {
        try guarded("read aggregate") {
            let statement = try db.cachedStatement(sql: "SELECT line FROM aggregates WHERE work = ?")
            guard let row = try Row.fetchOne(statement, arguments: [work]) else { return nil }
            return try StoredBytes.decodeAggregate(try Self.bytes(row, 0), work: work)
        }
    }

    // MARK: - Helpers

    private func namedIntegers(sql: String, what: String) throws(StoreError) -> [String: Int64] {
        try guarded(what) {
            var result: [String: Int64] = [:]
            let rows = try Row.fetchCursor(db, sql: sql)
            while let row = try rows.next() {
                result[try row.decode(String.self, atIndex: 0)] = try row.decode(Int64.self, atIndex: 1)
            }
            return result
        }
    }

    /// Runs `body` on each decoded row: a failure of the database or of decoding is wrapped into a
    /// `StoreError`, an error of `body` passes through untouched.
    private func forEachRow<First, Second>(
        sql: String, arguments: StatementArguments = StatementArguments(), what: String,
        decode: (Row) throws -> (First, Second), _ body: (First, Second) throws -> Void
    ) throws {
        let rows = try guarded(what) { try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments) }
        while let (first, second) = try guarded(what, { try rows.next().map(decode) }) {
            try body(first, second)
        }
    }

    func guarded<T>(_ what: String, _ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch {
            throw StoreError.wrapping(error, path: path, context: what)
        }
    }

    /// A `records` row: its key and its value as the caller stored it (decoded from `StoredBytes`).
    private static func record(_ row: Row) throws -> ([UInt8], [UInt8]) {
        let key = try bytes(row, 0)
        return (key, try StoredBytes.decodeRecord(try bytes(row, 1), key: key))
    }

    /// Copies the blob of column `index` of a live row; an SQLite NULL (never written by `commit`)
    /// reads as no bytes.
    private static func bytes(_ row: Row, _ index: Int) throws -> [UInt8] {
        try row.withUnsafeData(atIndex: index) { data in data.map { [UInt8]($0) } ?? [] }
    }
}
