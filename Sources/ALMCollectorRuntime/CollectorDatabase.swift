import Foundation
import GRDB

/// Opens (creating it and its directory if needed) one of a collector's small state files and its
/// table. A reader (an operator, a test) may hold the file briefly, so a busy file is waited for.
func openCollectorDatabase(directory: URL, file: String, schema: String) throws -> DatabaseQueue {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var configuration = Configuration()
    configuration.busyMode = .timeout(10)
    let queue = try DatabaseQueue(path: directory.appendingPathComponent(file).path, configuration: configuration)
    try queue.write { db in try db.execute(sql: schema) }
    return queue
}
