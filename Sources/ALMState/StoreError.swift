import Foundation
import GRDB

/// The one error type of the state store. Callers match on `code`; `message` says what went wrong in
/// words and `path` names the file or directory concerned.
public struct StoreError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Hashable, Sendable, CustomStringConvertible {
        /// The file is not an SQLite database, is damaged (fails `PRAGMA quick_check`, truncated), or
        /// claims to be a state store but lacks part of its schema.
        case corrupt
        /// A sound database that this build must not use: another application's database, another
        /// schema version, or another partition's state.
        case incompatible
        /// A read-only open of a partition that has no database (or no state in it yet).
        case notFound
        /// Another store already has this partition open for writing.
        case locked
        /// The batch breaks a rule of `StoreBatch` (a key both upserted and deleted, a negative offset, ...).
        case invalidBatch
        /// A write (`commit`) on a store opened read-only, or a database file the process may not write.
        case notWritable
        /// The store was used after `close()`.
        case closed
        /// Any other failure of the file system or SQLite (disk full, permissions, I/O error, ...).
        case io

        public var description: String { rawValue }
    }

    public let code: Code
    public let message: String
    /// The database file or state directory concerned.
    public let path: String
    /// SQLite's extended result code, when SQLite reported the failure.
    public let sqliteCode: Int32?

    public init(_ code: Code, _ message: String, path: String, sqliteCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.sqliteCode = sqliteCode
    }

    public var description: String { "\(path): \(code): \(message)" }
}

extension StoreError {
    /// Translates whatever SQLite or the file system threw into a `StoreError` about `path`.
    static func wrapping(_ error: any Error, path: String, context: String) -> StoreError {
        if let storeError = error as? StoreError { return storeError }
        if let databaseError = error as? DatabaseError {
            let code: Code
            switch databaseError.resultCode {
            case .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_FORMAT: code = .corrupt
            case .SQLITE_READONLY: code = .notWritable
            default: code = .io
            }
            var detail = databaseError.message ?? "\(databaseError.extendedResultCode)"
            if code == .corrupt { detail = "damaged, or not an SQLite database: \(detail)" }
            return StoreError(
                code, "\(context): \(detail) (SQLite \(databaseError.extendedResultCode.rawValue))",
                path: path, sqliteCode: databaseError.extendedResultCode.rawValue)
        }
        return StoreError(.io, "\(context): \(error)", path: path)
    }
}
