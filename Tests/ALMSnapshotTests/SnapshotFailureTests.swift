import ALMAggregation
import ALMCore
import Foundation
import Testing
@testable import ALMSnapshot

/// Atomicity: a failed write leaves nothing behind and existing snapshots untouched; crash leftovers
/// are cleaned.
@Suite struct SnapshotFailureTests {
    /// A root that cannot be created (its parent is a regular file) works for any user, root included.
    @Test func aRootThatCannotBeCreatedFailsClearlyAndCreatesNothing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.url.appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: file)
        let root = file.appendingPathComponent("snapshots")

        let error = try #require(throws: SnapshotError.self) {
            try SnapshotWriter(root: root, retain: 3).write(Samples.works)
        }
        #expect(error.errno == ENOTDIR)
        #expect(error.path == root.path)
        #expect(error.message.contains(root.path) && error.message.contains("Not a directory"), "\(error)")
        #expect(entries(directory.url) == ["not-a-directory"])
        #expect(throws: SnapshotError.self) { try SnapshotWriter(root: root, retain: 3).list() }
    }

    /// A read-only root: chmod does not stop root (the tests may run as root), so this case needs
    /// another user.
    @Test(.enabled(if: geteuid() != 0, "running as root, where chmod 0555 does not stop writes; the unwritable-root case is covered by aRootThatCannotBeCreated and the injected EROFS"))
    func aReadOnlyRootFailsClearlyAndKeepsItsSnapshots() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = SnapshotWriter(root: directory.snapshots, retain: 3)
        let existing = try writer.write(Samples.works)
        #expect(chmod(directory.snapshots.path, 0o555) == 0)
        defer { chmod(directory.snapshots.path, 0o755) }

        let error = try #require(throws: SnapshotError.self) {
            try writer.write(Samples.works + [WorkAggregate(work: "10.1/new")])
        }
        #expect(error.code == .notWritable)
        #expect(error.message.contains(directory.snapshots.path) && error.message.contains("Permission denied"), "\(error)")
        #expect(entries(directory.snapshots) == [existing.manifest.id])
        #expect(try SnapshotWriter.verify(directory: existing.directory) == existing.manifest)
    }

    @Test(arguments: [
        ("works.jsonl", ENOSPC, SnapshotError.Code.noSpace, "No space left on device"),
        ("works.csv", ENOSPC, .noSpace, "No space left on device"),
        ("manifest.json", ENOSPC, .noSpace, "No space left on device"),
        ("works.csv", EROFS, .notWritable, "Read-only file system"),
        ("works.jsonl", EIO, .io, "Input/output error"),
    ])
    func aFailedFileWriteRemovesTheTemporaryDirectoryAndKeepsTheSnapshots(
        file: String, errorNumber: Int32, code: SnapshotError.Code, reason: String
    ) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let existing = try SnapshotWriter(root: directory.snapshots, retain: 1).write(Samples.works)

        var failing = SnapshotWriter(root: directory.snapshots, retain: 1)
        failing.injectedWriteErrors = [file: errorNumber]
        let error = try #require(throws: SnapshotError.self) {
            try failing.write(Samples.random(count: 50, seed: 1))
        }
        #expect(error.code == code)
        #expect(error.errno == errorNumber)
        #expect(error.path.hasPrefix(directory.snapshots.path + "/.tmp-") && error.path.hasSuffix("/" + file))
        #expect(error.message.contains(error.path) && error.message.contains(reason), "\(error)")
        // Nothing left behind, the existing snapshot neither pruned nor changed.
        #expect(entries(directory.snapshots) == [existing.manifest.id])
        #expect(try SnapshotWriter.verify(directory: existing.directory) == existing.manifest)
        #expect(try failing.latest()?.manifest == existing.manifest)
    }

    /// A real full disk: `ALM_TEST_SMALL_FS` names an empty directory on a small file system (say a
    /// 256 KiB tmpfs: `mount -t tmpfs -o size=256k tmpfs /mnt/small`), which needs privileges to make.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["ALM_TEST_SMALL_FS"] != nil,
                   "set ALM_TEST_SMALL_FS to a directory on a small (< 1 MiB) file system to test a real ENOSPC"))
    func aFullDiskFailsWithENOSPCAndKeepsTheSnapshots() throws {
        let base = URL(fileURLWithPath: ProcessInfo.processInfo.environment["ALM_TEST_SMALL_FS"]!, isDirectory: true)
        let root = base.appendingPathComponent("snapshots-\(UUID().uuidString.prefix(8))", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let writer = SnapshotWriter(root: root, retain: 2)
        let existing = try writer.write(Samples.works)

        let error = try #require(throws: SnapshotError.self) {
            try writer.write(Samples.random(count: 20_000, seed: 3))
        }
        #expect(error.code == .noSpace && error.errno == ENOSPC, "\(error)")
        #expect(error.message.contains(root.path) && error.message.contains("No space left on device"), "\(error)")
        #expect(entries(root) == [existing.manifest.id])
        #expect(try SnapshotWriter.verify(directory: existing.directory) == existing.manifest)
        // With the space back, the next write works.
        #expect(try writer.write(Samples.works).manifest.works == Samples.works.count)
    }

    @Test func leftoverTemporaryDirectoriesAreCleanedByTheNextWrite() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = SnapshotWriter(root: directory.snapshots, retain: 5)
        let existing = try writer.write(Samples.works, createdAt: try date("2026-01-01T00:00:00Z"))

        let fileManager = FileManager.default
        func leftover(_ name: String, modified: Date = Date()) throws {
            let url = directory.snapshots.appendingPathComponent(name)
            try fileManager.createDirectory(at: url, withIntermediateDirectories: true)
            try Data("partial".utf8).write(to: url.appendingPathComponent("works.jsonl"))
            try fileManager.setAttributes([.modificationDate: modified], ofItemAtPath: url.path)
        }
        let deadPID = Int32.max - 1
        try leftover(".tmp-20260102T000000.000Z-\(deadPID)-1f2e")  // its process is gone
        try leftover(".tmp-20260102T000000.000Z-\(getpid())-abcd")  // this process, not being written
        try leftover(".tmp-crashed")  // no pid at all
        try leftover(".tmp-20260102T000000.000Z-1-beef", modified: Date(timeIntervalSinceNow: -3600))  // live pid, old
        try leftover(".tmp-20260102T000000.000Z-1-cafe")  // live pid (init), just written: maybe in progress
        #expect(try writer.list().map(\.id) == [existing.manifest.id])

        let next = try writer.write(Samples.works, createdAt: try date("2026-01-03T00:00:00Z"))
        #expect(entries(directory.snapshots) == [".tmp-20260102T000000.000Z-1-cafe", existing.manifest.id, next.manifest.id])
    }

    @Test func theSameWorkTwiceIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let works = Samples.works + [WorkAggregate(work: "10.1234/abc", categories: [.viewed: 1])]
        let error = try #require(throws: SnapshotError.self) {
            try SnapshotWriter(root: directory.snapshots, retain: 3).write(works)
        }
        #expect(error.code == .invalidArgument && error.message.contains("10.1234/abc appears twice"), "\(error)")
        #expect(entries(directory.snapshots).isEmpty)
    }

    @Test func retainBelowOneIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = SnapshotWriter(root: directory.snapshots, retain: 0)
        #expect(throws: SnapshotError.self) { try writer.write(Samples.works) }
        #expect(throws: SnapshotError.self) { try writer.prune() }
        #expect(entries(directory.url).isEmpty)
    }
}
