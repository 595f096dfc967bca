import Foundation
import GRDB

/// The embedded state of one partition: an SQLite database `<directory>/partition-<pppp>.sqlite`
/// holding the processor's records and per-work aggregates together with the input offsets they
/// reflect. `commit` writes a batch of changes and its offsets in one transaction, so after a crash
/// at any point the stored state and the stored offsets match (see docs/decisions/state-store.md).
///
/// A writable store is the partition's only writer: opening a second one, in this process or another,
/// fails with `.locked` until the first is closed or its process ends. Read-only stores (snapshots,
/// the HTTP server) may be opened alongside it; they see the last committed state and never block it.
/// (SQLite's WAL needs the reader to be able to open or create the `-shm` file beside the database.)
///
/// Threads: all database work is serialised on the store's own connection, so a store may be passed
/// between threads and even called from several, one call running at a time. The processor is meant
/// to own each store from one thread. Do not call a store from inside one of its `forEach…` or `read`
/// bodies (GRDB stops the process on that re-entry); collect what you need and call afterwards.
public final class PartitionStore: @unchecked Sendable {
    public let partition: Int32
    /// True when this open created the database: there is no state yet.
    public let isNew: Bool
    public let isReadOnly: Bool
    public let databaseURL: URL

    private let stateLock = NSLock()
    private var database: DatabaseQueue?
    private var writerLock: WriterLock?
    /// Tests only: called inside the commit transaction after each step; throwing aborts the commit.
    var commitStepHook: ((CommitStep) throws -> Void)? {
        get { stateLock.withLock { _commitStepHook } }
        set { stateLock.withLock { _commitStepHook = newValue } }
    }
    private var _commitStepHook: ((CommitStep) throws -> Void)?

    enum CommitStep: CaseIterable, Sendable {
        case began, recordsWritten, aggregatesWritten, offsetsWritten, countersWritten
    }

    /// Connection settings of a writable store; chosen and measured in docs/decisions/state-store.md.
    enum Tuning {
        /// Page cache of the writer's connection, a ceiling (pages are allocated as used). The processor
        /// commits a few thousand rows per partition at a time; 4 MiB holds what they touch, and 12
        /// partitions of a 1 M-record state no longer keep their whole files in memory (16 MiB: ~60 MiB
        /// more peak RSS at 1 M records, no faster). A single batch of 100 000 upserts would want ~16 MB.
        static let cacheSizeKiB = 4 * 1024
        /// Checkpoint once the WAL holds this many 4 KiB pages (SQLite's default: 1 000). Fewer
        /// checkpoints: a page changed by several commits is copied and fsynced once.
        static let walAutocheckpointPages = 4_000
        /// After a checkpoint the WAL is cut back to this size instead of keeping the size of the
        /// largest batch ever written.
        static let journalSizeLimitBytes = 16 * 1024 * 1024
        static let busyTimeoutSeconds: TimeInterval = 10
    }

    // MARK: - Files

    public static func fileURL(directory: URL, partition: Int32) -> URL {
        directory.appendingPathComponent("partition-\(paddedNumber(partition)).sqlite", isDirectory: false)
    }

    static func lockURL(directory: URL, partition: Int32) -> URL {
        directory.appendingPathComponent("partition-\(paddedNumber(partition)).lock", isDirectory: false)
    }

    /// The partition numbers that have a database file in `directory`, sorted; none when the
    /// directory does not exist.
    public static func partitions(in directory: URL) throws(StoreError) -> [Int32] {
        var names: [String] = []
        // Twice: a processor may create the directory between a failed listing and the check that it
        // is missing (a reader such as alm serve starts beside it).
        for attempt in 1...2 {
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                break
            } catch {
                var isDirectory: ObjCBool = false
                if !FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) { return [] }
                if attempt == 2 {
                    throw StoreError(.io, "cannot list the state directory: \(error.localizedDescription)", path: directory.path)
                }
            }
        }
        return names.compactMap(partitionNumber(fileName:)).sorted()
    }

    /// Deletes the partition's database with its `-wal` and `-shm` files (and its lock file). Missing
    /// files are not an error; a partition open for writing is (`.locked`). Read-only stores still
    /// open keep reading the deleted file.
    public static func remove(directory: URL, partition: Int32) throws(StoreError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else { return }
        let lockPath = lockURL(directory: directory, partition: partition).path
        let writerLock = try WriterLock(path: lockPath)
        defer { writerLock.release() }
        let databasePath = fileURL(directory: directory, partition: partition).path
        for path in [databasePath + "-wal", databasePath + "-shm", databasePath + "-journal", databasePath, lockPath] {
            if unlink(path) != 0 && errno != ENOENT {
                throw StoreError(.io, "cannot delete: \(String(cString: strerror(errno)))", path: path)
            }
        }
    }

    private static func paddedNumber(_ partition: Int32) -> String {
        precondition(partition >= 0, "partition numbers are not negative: \(partition)")
        let digits = String(partition)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// `partition-0042.sqlite` → 42; nil for any other name, including `partition-00042.sqlite`,
    /// which is not the name `fileURL` gives partition 42.
    private static func partitionNumber(fileName: String) -> Int32? {
        guard fileName.hasPrefix("partition-"), fileName.hasSuffix(".sqlite") else { return nil }
        let digits = fileName.dropFirst("partition-".count).dropLast(".sqlite".count)
        guard digits.count >= 4, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let number = Int32(digits), paddedNumber(number) == digits
        else { return nil }
        return number
    }

    // MARK: - Opening and closing

    /// Opens the partition's database, creating the directory and the database when missing (unless
    /// `readOnly`), and verifies it: a file that is not SQLite or fails `PRAGMA quick_check` is
    /// `.corrupt`; another application's database, another schema version or another partition's
    /// state is `.incompatible`. A read-only open of a missing database is `.notFound`.
    public convenience init(directory: URL, partition: Int32, readOnly: Bool = false) throws(StoreError) {
        try self.init(directory: directory, partition: partition, readOnly: readOnly, cacheSizeKiB: Tuning.cacheSizeKiB)
    }

    /// `cacheSizeKiB`: tests make it small to see SQLite spill uncommitted pages into the WAL.
    init(directory: URL, partition: Int32, readOnly: Bool, cacheSizeKiB: Int) throws(StoreError) {
        let databaseURL = Self.fileURL(directory: directory, partition: partition)
        let path = databaseURL.path
        var writerLock: WriterLock?
        if readOnly {
            guard FileManager.default.fileExists(atPath: path) else {
                throw StoreError(.notFound, "partition \(partition) has no state database", path: path)
            }
        } else {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw StoreError(
                    .io, "cannot create the state directory: \(error.localizedDescription)", path: directory.path)
            }
            writerLock = try WriterLock(path: Self.lockURL(directory: directory, partition: partition).path)
        }

        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: Self.configuration(readOnly: readOnly, path: path))
        } catch {
            writerLock?.release()
            throw StoreError.wrapping(error, path: path, context: "cannot open")
        }
        do {
            isNew = try Self.prepare(
                queue, partition: partition, readOnly: readOnly, cacheSizeKiB: cacheSizeKiB, path: path)
        } catch {
            try? queue.close()
            writerLock?.release()
            throw error
        }
        self.partition = partition
        self.isReadOnly = readOnly
        self.databaseURL = databaseURL
        self.database = queue
        self.writerLock = writerLock
    }

    private static func configuration(readOnly: Bool, path: String) -> Configuration {
        var configuration = Configuration()
        configuration.readonly = readOnly
        // A reader may wait briefly while another connection recovers the WAL after a crash; a writer
        // never waits for readers in WAL mode.
        configuration.busyMode = .timeout(Tuning.busyTimeoutSeconds)
        configuration.label = (path as NSString).lastPathComponent
        return configuration
    }

    /// Verifies the file and, for a writer, switches it to WAL and creates the schema when the file
    /// has none. Returns whether it created the schema.
    private static func prepare(
        _ queue: DatabaseQueue, partition: Int32, readOnly: Bool, cacheSizeKiB: Int, path: String
    ) throws(StoreError) -> Bool {
        do {
            if readOnly {
                let existing = try queue.read { db in try Schema.verify(db, partition: partition, path: path) }
                if existing == .empty {
                    throw StoreError(.notFound, "partition \(partition) has no state yet (empty database)", path: path)
                }
                return false
            }
            return try queue.writeWithoutTransaction { db in
                var existing = Schema.Existing.empty
                try db.inTransaction(.deferred) {
                    existing = try Schema.verify(db, partition: partition, path: path)
                    return .commit
                }
                let journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                guard journalMode == "wal" else {
                    throw StoreError(.io, "cannot use WAL (journal_mode stays \(journalMode ?? "unknown"))", path: path)
                }
                try db.execute(
                    sql: """
                        PRAGMA synchronous = NORMAL;
                        PRAGMA cache_size = -\(cacheSizeKiB);
                        PRAGMA journal_size_limit = \(Tuning.journalSizeLimitBytes);
                        PRAGMA wal_autocheckpoint = \(Tuning.walAutocheckpointPages);
                        """)
                guard existing == .empty else { return false }
                try db.inTransaction(.immediate) {
                    try Schema.create(db, partition: partition)
                    return .commit
                }
                return true
            }
        } catch {
            throw StoreError.wrapping(error, path: path, context: "cannot open")
        }
    }

    /// Closes the database (SQLite checkpoints the WAL into the main file when no other connection
    /// has it open) and releases the writer lock. Calls after it throw `.closed`; closing twice is fine.
    public func close() {
        let (queue, writerLock) = stateLock.withLock {
            defer {
                database = nil
                self.writerLock = nil
            }
            return (database, self.writerLock)
        }
        try? queue?.close()
        writerLock?.release()
    }

    deinit { close() }

    // MARK: - Reading

    /// Runs `body` against one committed state: everything read through the view agrees (offsets with
    /// records with aggregates), whatever a writer commits meanwhile. Errors of `body` pass through.
    public func read<T>(_ body: (StoreView) throws -> T) throws -> T {
        let queue = try openQueue()
        let path = databaseURL.path
        do {
            return try queue.read { db in try body(StoreView(db: db, path: path)) }
        } catch let error as DatabaseError {
            throw StoreError.wrapping(error, path: path, context: "read transaction")
        }
    }

    public func offsets() throws(StoreError) -> [String: Int64] {
        try readWithStoreErrors { try $0.offsets() }
    }

    public func counters() throws(StoreError) -> [String: Int64] {
        try readWithStoreErrors { try $0.counters() }
    }

    /// Every record in key order (bytewise). Errors of `body` pass through; the store's are `StoreError`s.
    public func forEachRecord(_ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Void) throws {
        try read { try $0.forEachRecord(body) }
    }

    /// The records whose key begins with `prefix` (and is greater than `after`), in key order, at most
    /// `limit`; see `StoreView.forEachRecord(withPrefix:after:limit:_:)`. Errors of `body` pass through.
    @discardableResult
    public func forEachRecord(
        withPrefix prefix: [UInt8], after: [UInt8]? = nil, limit: Int? = nil,
        _ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Void
    ) throws -> Int {
        try read { try $0.forEachRecord(withPrefix: prefix, after: after, limit: limit, body) }
    }

    public func record(key: [UInt8]) throws(StoreError) -> [UInt8]? {
        try readWithStoreErrors { try $0.record(key: key) }
    }

    public func recordCount() throws(StoreError) -> Int {
        try readWithStoreErrors { try $0.recordCount() }
    }

    /// Every aggregate sorted by work id in UTF-8 byte order. Errors of `body` pass through.
    public func forEachAggregate(_ body: (_ work: String, _ line: [UInt8]) throws -> Void) throws {
        try read { try $0.forEachAggregate(body) }
    }

    public func aggregate(work: String) throws(StoreError) -> [UInt8]? {
        try readWithStoreErrors { try $0.aggregate(work: work) }
    }

    /// Bytes on disk of the database and its WAL (the `-shm` index is not state).
    public func fileSizeBytes() throws(StoreError) -> Int64 {
        let path = databaseURL.path
        var total: Int64 = 0
        for file in [path, path + "-wal"] {
            var status = stat()
            if stat(file, &status) == 0 {
                total += Int64(status.st_size)
            } else if errno != ENOENT {
                throw StoreError(.io, "cannot stat: \(String(cString: strerror(errno)))", path: file)
            }
        }
        return total
    }

    // MARK: - Writing

    /// Writes the batch in one transaction: all of it or, if anything fails, none of it. After a
    /// failure the stored state is the one before the batch, so a caller whose memory already holds
    /// the batch's effects is ahead of the store and should reload from it (or stop). An empty batch
    /// writes nothing.
    public func commit(_ batch: StoreBatch) throws(StoreError) {
        let queue = try openQueue()
        let path = databaseURL.path
        guard !isReadOnly else {
            throw StoreError(.notWritable, "commit on a store opened read-only", path: path)
        }
        if let problem = batch.violation() {
            throw StoreError(.invalidBatch, problem, path: path)
        }
        if batch.isEmpty { return }
        let hook = commitStepHook
        do {
            try queue.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try Self.write(batch, to: db, hook: hook)
                    return .commit
                }
            }
        } catch {
            throw StoreError.wrapping(
                error, path: path, context: "commit failed, nothing of the batch was stored")
        }
    }

    /// The statements of `commit`. An empty `Data` may bind as NULL (a nil base address), hence the
    /// `coalesce` to the empty blob.
    private enum SQL {
        static let upsertRecord = """
            INSERT INTO records (key, value) VALUES (coalesce(?1, x''), coalesce(?2, x''))
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """
        static let deleteRecord = "DELETE FROM records WHERE key = coalesce(?1, x'')"
        static let upsertAggregate = """
            INSERT INTO aggregates (work, line) VALUES (?1, coalesce(?2, x''))
            ON CONFLICT (work) DO UPDATE SET line = excluded.line
            """
        static let deleteAggregate = "DELETE FROM aggregates WHERE work = ?1"
        static let upsertOffset = """
            INSERT INTO offsets (topic, next_offset) VALUES (?1, ?2)
            ON CONFLICT (topic) DO UPDATE SET next_offset = excluded.next_offset
            """
        static let incrementCounter = """
            INSERT INTO counters (name, value) VALUES (?1, ?2)
            ON CONFLICT (name) DO UPDATE SET value = value + excluded.value
            """
    }

    /// Each statement is prepared once per connection (GRDB's statement cache) and executed once per
    /// row inside the caller's transaction.
    private static func write(_ batch: StoreBatch, to db: Database, hook: ((CommitStep) throws -> Void)?) throws {
        try hook?(.began)
        if !batch.upsertRecords.isEmpty {
            let upsert = try db.cachedStatement(sql: SQL.upsertRecord)
            for record in batch.upsertRecords {
                try upsert.execute(arguments: [Data(record.key), Data(StoredBytes.encodeRecord(value: record.value, key: record.key))])
            }
        }
        if !batch.deleteRecords.isEmpty {
            let delete = try db.cachedStatement(sql: SQL.deleteRecord)
            for key in batch.deleteRecords {
                try delete.execute(arguments: [Data(key)])
            }
        }
        try hook?(.recordsWritten)
        if !batch.upsertAggregates.isEmpty {
            let upsert = try db.cachedStatement(sql: SQL.upsertAggregate)
            for aggregate in batch.upsertAggregates {
                try upsert.execute(arguments: [aggregate.work, Data(StoredBytes.encodeAggregate(line: aggregate.line, work: aggregate.work))])
            }
        }
        if !batch.deleteAggregates.isEmpty {
            let delete = try db.cachedStatement(sql: SQL.deleteAggregate)
            for work in batch.deleteAggregates {
                try delete.execute(arguments: [work])
            }
        }
        try hook?(.aggregatesWritten)
        if !batch.offsets.isEmpty {
            let upsert = try db.cachedStatement(sql: SQL.upsertOffset)
            for (topic, offset) in batch.offsets {
                try upsert.execute(arguments: [topic, offset])
            }
        }
        try hook?(.offsetsWritten)
        if !batch.counterIncrements.isEmpty {
            let increment = try db.cachedStatement(sql: SQL.incrementCounter)
            for (name, amount) in batch.counterIncrements {
                try increment.execute(arguments: [name, amount])
            }
        }
        try hook?(.countersWritten)
    }

    // MARK: - Helpers

    private func openQueue() throws(StoreError) -> DatabaseQueue {
        guard let queue = stateLock.withLock({ database }) else {
            throw StoreError(.closed, "the store of partition \(partition) is closed", path: databaseURL.path)
        }
        return queue
    }

    private func readWithStoreErrors<T>(_ body: (StoreView) throws -> T) throws(StoreError) -> T {
        do {
            return try read(body)
        } catch {
            throw StoreError.wrapping(error, path: databaseURL.path, context: "read")
        }
    }
}
