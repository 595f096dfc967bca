import Foundation
import GRDB

/// When each work is due again at one source, kept in a small SQLite file per source so a restarted
/// collector does not ask again about everything it has just asked about.
final class ScheduleStore: Sendable {
    private let queue: DatabaseQueue

    init(directory: URL, source: String) throws {
        queue = try openCollectorDatabase(directory: directory, file: "collector-\(source).sqlite", schema: """
            CREATE TABLE IF NOT EXISTS schedule (
                doi TEXT PRIMARY KEY COLLATE BINARY, next_due REAL NOT NULL, last_success REAL
            ) WITHOUT ROWID
            """)
    }

    /// doi → next due time (seconds since the epoch).
    func load() throws -> [String: Double] {
        try queue.read { db in
            var due: [String: Double] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT doi, next_due FROM schedule") { due[row["doi"]] = row["next_due"] }
            return due
        }
    }

    func record(doi: String, nextDue: Double, succeededAt: Double?) throws {
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO schedule (doi, next_due, last_success) VALUES (?, ?, ?)
                ON CONFLICT(doi) DO UPDATE SET next_due = excluded.next_due,
                    last_success = COALESCE(excluded.last_success, schedule.last_success)
                """, arguments: [doi, nextDue, succeededAt])
        }
    }
}
