import Foundation
import GRDB

/// The tables of a partition database and the checks `PartitionStore.init` runs on an existing file.
enum Schema {
    /// 2: stored aggregates are state (records no longer imply them once usage records expire).
    /// 3: event keys are (work, source, id), no longer (source, id, work), so that every record of a
    ///    work lies under one key prefix per kind (docs/decisions/provenance.md). The rows of a version 2
    ///    store would still decode but no longer be found by their key: it must be rebuilt.
    /// 4: a deciding record's value is its compact binary encoding without the key's fields
    ///    (`StoredRecord`), no longer its canonical JSON.
    /// 5: record values are stored LZ77-compressed against their key and aggregate lines without
    ///    their work and with JSON names as one-byte tokens (`StoredBytes`); readers get the same bytes.
    static let version: Int64 = 5
    /// `PRAGMA application_id`: "ALMS". Marks our files for tools (`file` prints it) and tells an
    /// ALM state store apart from any other SQLite database.
    static let applicationID: Int32 = 0x414C_4D53

    /// Every table is WITHOUT ROWID: rows are small and always looked up by their key, so the key is
    /// stored once, in the table's own B-tree, instead of in a table plus an index.
    static let tables: [(name: String, sql: String)] = [
        ("meta", "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID"),
        ("records", "CREATE TABLE records (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID"),
        (
            "aggregates",
            "CREATE TABLE aggregates (work TEXT PRIMARY KEY COLLATE BINARY, line BLOB NOT NULL) WITHOUT ROWID"
        ),
        ("offsets", "CREATE TABLE offsets (topic TEXT PRIMARY KEY, next_offset INTEGER NOT NULL) WITHOUT ROWID"),
        ("counters", "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID"),
    ]

    enum Existing {
        /// No table at all: a file this store has just created, or one whose creation was interrupted
        /// before its first transaction committed.
        case empty
        case valid
    }

    /// Runs inside a read transaction. Throws `.corrupt` or `.incompatible` with a message that says
    /// what is wrong; `path` is the database file.
    static func verify(_ db: Database, partition: Int32, path: String) throws -> Existing {
        let problems = try String.fetchAll(db, sql: "PRAGMA quick_check(5)")
        if problems != ["ok"] {
            throw StoreError(
                .corrupt, "fails PRAGMA quick_check: \(problems.joined(separator: "; "))", path: path)
        }

        let stored = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        var definitions: [String: String] = [:]
        for row in stored {
            definitions[row["name"]] = row["sql"] ?? ""
        }
        if definitions.isEmpty { return .empty }

        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        guard applicationID == Self.applicationID else {
            throw StoreError(
                .incompatible,
                "not an ALM partition state store "
                    + "(SQLite application_id \(applicationID), expected \(Self.applicationID))",
                path: path)
        }
        guard definitions["meta"] == tables[0].sql else {
            throw StoreError(.corrupt, "an ALM state store without its meta table", path: path)
        }
        var meta: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM meta") {
            // Decoded with `try?`: a value that is not an integer counts as missing (GRDB's subscript
            // would stop the process on it).
            if let key = try? row.decode(String.self, atIndex: 0), let value = try? row.decode(Int64.self, atIndex: 1) {
                meta[key] = value
            }
        }
        guard let version = meta["schema_version"] else {
            throw StoreError(.corrupt, "meta has no schema_version", path: path)
        }
        guard version == Self.version else {
            let remedy =
                version < Self.version
                ? "the state of an older build must be rebuilt from the raw topics: `alm process` replays such a "
                    + "partition from the earliest offsets on start, or delete the state directory (`alm replay` "
                    + "builds fresh state)"
                : "it was written by a newer build; run that build, or delete the state directory and replay"
            throw StoreError(
                .incompatible,
                "schema_version is \(version); this build reads schema_version \(Self.version): \(remedy)",
                path: path)
        }
        guard let storedPartition = meta["partition"] else {
            throw StoreError(.corrupt, "meta has no partition", path: path)
        }
        guard storedPartition == Int64(partition) else {
            throw StoreError(
                .incompatible, "holds the state of partition \(storedPartition), not of partition \(partition)",
                path: path)
        }
        for table in tables where definitions[table.name] != table.sql {
            let problem = definitions[table.name] == nil ? "is missing" : "has another definition"
            throw StoreError(.corrupt, "table \(table.name) \(problem)", path: path)
        }
        return .valid
    }

    /// Runs inside the creating transaction.
    static func create(_ db: Database, partition: Int32) throws {
        for table in tables {
            try db.execute(sql: table.sql)
        }
        try db.execute(
            sql: "INSERT INTO meta (key, value) VALUES ('schema_version', ?), ('partition', ?)",
            arguments: [Self.version, Int64(partition)])
        try db.execute(sql: "PRAGMA application_id = \(Self.applicationID)")
    }
}

extension PartitionStore {
    /// Tests only: runs `sql` on the database file at `url` with none of the store's checks, to build
    /// damaged or foreign files.
    static func executeUncheckedSQL(_ sql: String, databaseAt url: URL) throws {
        let queue = try DatabaseQueue(path: url.path)
        try queue.writeWithoutTransaction { db in try db.execute(sql: sql) }
        try queue.close()
    }
}
