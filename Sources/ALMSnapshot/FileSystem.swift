import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls of snapshots, each failure turned into a `SnapshotError` naming the path and errno.
enum FileSystem {
    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 { throw SnapshotError.system(errno, "cannot create directory", path: path) }
    }

    /// Creates `path` and missing parents; returns whether `path` itself was created.
    @discardableResult
    static func makeDirectories(_ path: String) throws -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        var error = errno
        if error == ENOENT {
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty && parent != path {
                try makeDirectories(parent)
                if mkdir(path, 0o755) == 0 { return true }
                error = errno
            }
        }
        if error == EEXIST {
            if isDirectory(path) { return false }
            throw SnapshotError(.io, "cannot create directory \(path): a file of that name exists", path: path, errno: error)
        }
        throw SnapshotError.system(error, "cannot create directory", path: path)
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Modification time in seconds since 1970, nil if the entry is gone.
    static func modificationTime(_ path: String) -> Int? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        return Int(info.st_mtimespec.tv_sec)
        #else
        return Int(info.st_mtim.tv_sec)
        #endif
    }

    /// fsync of a directory, so that entries created, renamed or removed in it are durable.
    static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor < 0 { throw SnapshotError.system(errno, "cannot open directory", path: path) }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 { throw SnapshotError.system(errno, "cannot fsync directory", path: path) }
    }

    /// rename(2); false when it fails with one of `tolerated` (say, EEXIST), an error for any other errno.
    static func move(_ from: String, to: String, tolerating tolerated: [Int32] = []) throws -> Bool {
        guard systemRename(from, to) != 0 else { return true }
        let error = errno
        if tolerated.contains(error) { return false }
        throw SnapshotError.system(error, "cannot rename \(from) to", path: to)
    }

    /// Removes a file or a directory tree; a missing entry is not an error.
    static func removeTree(_ path: String) throws {
        guard exists(path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            if !exists(path) { return }
            throw SnapshotError.wrapping(error, "cannot remove", path: path)
        }
    }

    static func directoryEntries(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else {
            let error = errno
            if error == ENOENT { return [] }
            throw SnapshotError.system(error, "cannot list directory", path: path)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func isProcessAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}

/// SHA-256, size and "\n" count of bytes fed in pieces.
struct Digester {
    private var hasher = SHA256()
    private(set) var bytes: Int64 = 0
    private(set) var lines = 0

    mutating func update(_ raw: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: raw)
        var newlines = 0
        for byte in raw where byte == 0x0A { newlines += 1 }
        lines += newlines
        bytes += Int64(raw.count)
    }

    func finalize() -> FileDigest {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in hasher.finalize() {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return FileDigest(sha256: String(decoding: hex, as: UTF8.self), bytes: bytes, lines: lines)
    }
}

/// A new file written in large chunks, digested as it is written; `finish` fsyncs and closes. A sink
/// that is not finished closes its descriptor when released.
final class FileSink {
    let path: String
    private var descriptor: Int32
    private var digester = Digester()
    /// Tests: the errno a write of this file fails with (as if the disk were full).
    private let injectedWriteError: Int32?

    init(path: String, injectedWriteError: Int32? = nil) throws {
        self.path = path
        self.injectedWriteError = injectedWriteError
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if descriptor < 0 { throw SnapshotError.system(errno, "cannot create file", path: path) }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Hashes and writes `chunk`, then empties it (keeping its capacity).
    func write(_ chunk: inout [UInt8]) throws {
        try chunk.withUnsafeBytes { raw in
            digester.update(raw)
            var offset = 0
            if let injectedWriteError {
                // Half the chunk reaches the file, like a disk filling up mid-write.
                _ = systemWrite(descriptor, raw.baseAddress!, raw.count / 2)
                throw SnapshotError.system(injectedWriteError, "cannot write", path: path)
            }
            while offset < raw.count {
                let written = systemWrite(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw SnapshotError.system(errno, "cannot write", path: path)
                }
                offset += written
            }
        }
        chunk.removeAll(keepingCapacity: true)
    }

    /// fsync, close, and the file's digest.
    func finish() throws -> FileDigest {
        if fsync(descriptor) != 0 { throw SnapshotError.system(errno, "cannot fsync", path: path) }
        let result = close(descriptor)
        descriptor = -1
        if result != 0 { throw SnapshotError.system(errno, "cannot close", path: path) }
        return digester.finalize()
    }
}

/// `rename(2)`, named apart from `FileSystem.move`.
@inline(__always)
private func systemRename(_ from: String, _ to: String) -> Int32 {
    #if canImport(Darwin)
    return Darwin.rename(from, to)
    #elseif canImport(Musl)
    return Musl.rename(from, to)
    #else
    return Glibc.rename(from, to)
    #endif
}

/// `write(2)`, named apart from the methods called `write`.
@inline(__always)
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.write(descriptor, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(descriptor, buffer, count)
    #else
    return Glibc.write(descriptor, buffer, count)
    #endif
}
