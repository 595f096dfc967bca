import Foundation
import GRDB

/// Where a stream collector resumes: the last stream position whose events the broker has
/// acknowledged, in a small SQLite file per source.
final class CursorStore: Sendable {
    private let queue: DatabaseQueue

    init(directory: URL, source: String) throws {
        queue = try openCollectorDatabase(directory: directory, file: "stream-\(source).sqlite",
                                          schema: "CREATE TABLE IF NOT EXISTS cursor (stream TEXT PRIMARY KEY, position TEXT NOT NULL) WITHOUT ROWID")
    }

    func position(of stream: String) throws -> String? {
        try queue.read { db in try String.fetchOne(db, sql: "SELECT position FROM cursor WHERE stream = ?", arguments: [stream]) }
    }

    func save(_ position: String, of stream: String) throws {
        try queue.write { db in
            try db.execute(sql: "INSERT INTO cursor (stream, position) VALUES (?, ?) ON CONFLICT(stream) DO UPDATE SET position = excluded.position",
                           arguments: [stream, position])
        }
    }
}
