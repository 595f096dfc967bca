import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on `partition-<pppp>.lock` beside the database, held by the one store that
/// writes the partition. Two writers would each commit their own in-memory state and offsets, and the
/// file would end up reflecting neither history; SQLite's locks serialise their transactions but
/// cannot prevent that. The kernel releases the lock when the process dies, so a crash never leaves a
/// stale lock behind.
///
/// A separate file, not the database itself: closing any descriptor of a file drops every POSIX lock
/// the process holds on it, which would silently release SQLite's own locks.
final class WriterLock {
    private var descriptor: Int32

    /// Takes the lock or throws `.locked` at once (never waits).
    init(path: String) throws(StoreError) {
        while true {
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw StoreError(.io, "cannot open lock file: \(String(cString: strerror(errno)))", path: path)
            }
            if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
                let reason = errno
                close(descriptor)
                if reason == EWOULDBLOCK {
                    throw StoreError(
                        .locked, "the partition is already open for writing by another store (this or another process)",
                        path: path)
                }
                throw StoreError(.io, "cannot lock: \(String(cString: strerror(reason)))", path: path)
            }
            // `remove` may have unlinked the file between our open and our flock; a lock on an
            // unlinked file excludes nobody, so start again with the file now at the path.
            if Self.isSameFile(descriptor: descriptor, path: path) {
                self.descriptor = descriptor
                return
            }
            close(descriptor)
        }
    }

    func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)  // closing the descriptor releases the flock
        descriptor = -1
    }

    deinit { release() }

    private static func isSameFile(descriptor: Int32, path: String) -> Bool {
        var opened = stat()
        var atPath = stat()
        guard fstat(descriptor, &opened) == 0, stat(path, &atPath) == 0 else { return false }
        return opened.st_dev == atPath.st_dev && opened.st_ino == atPath.st_ino
    }
}
