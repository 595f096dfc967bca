#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one error type of snapshots. Callers match on `code`; `message` says what went wrong in words,
/// naming the path and the system's reason; `path` is the file or directory concerned.
public struct SnapshotError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Hashable, Sendable, CustomStringConvertible {
        /// The snapshot directory (or a file in it) may not be written: read-only file system, permissions.
        case notWritable
        /// The disk (or quota) is full.
        case noSpace
        /// The caller's input breaks a rule: `retain` < 1, the same work twice, a creation time outside
        /// years 0000–9999.
        case invalidArgument
        /// A snapshot could not be read back (`verify`): missing file, wrong digest, unreadable manifest.
        case corrupt
        /// Any other failure of the file system.
        case io

        public var description: String { rawValue }
    }

    public let code: Code
    public let message: String
    /// The file or directory concerned.
    public let path: String
    /// The `errno` of the failed system call, when one failed.
    public let errno: Int32?

    public init(_ code: Code, _ message: String, path: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
    }

    public var description: String { "snapshot \(code): \(message)" }
}

extension SnapshotError {
    /// An error for a failed system call: "<action> <path>: <strerror> (errno N)".
    static func system(_ errorNumber: Int32, _ action: String, path: String) -> SnapshotError {
        let code: Code
        switch errorNumber {
        case EROFS, EACCES, EPERM: code = .notWritable
        case ENOSPC, EDQUOT, EFBIG: code = .noSpace
        default: code = .io
        }
        let reason = String(cString: strerror(errorNumber))
        return SnapshotError(code, "\(action) \(path): \(reason) (errno \(errorNumber))", path: path, errno: errorNumber)
    }

    /// Translates whatever Foundation threw into a `SnapshotError` about `path`.
    static func wrapping(_ error: any Error, _ action: String, path: String) -> SnapshotError {
        if let snapshotError = error as? SnapshotError { return snapshotError }
        return SnapshotError(.io, "\(action) \(path): \(error)", path: path)
    }
}
