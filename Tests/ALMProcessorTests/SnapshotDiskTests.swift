import ALMProcessor
import ALMSnapshot
import ALMTestSupport
import ALMWorkload
import DevBroker
import Foundation
import Kafka
import Synchronization
import Testing

/// The snapshot directory turns read-only, then fills up, while `alm process` runs with snapshots due
/// every second: each failed snapshot is a clear error in the log, processing goes on, no partial
/// snapshot is ever visible, and snapshots resume by themselves once the space is back.
@Suite("snapshots on a read-only, then full file system", .serialized, .timeLimit(.minutes(5)))
struct SnapshotDiskTests {
    @Test("read-only, then full (a 16 MiB tmpfs): errors logged, numbers still exact, no partial snapshot, the next one succeeds",
          .enabled(if: FileManager.default.isExecutableFile(atPath: almBinary.path), "needs .build/debug/alm (make test builds it)"))
    func readOnlyThenFull() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                let small = dir.appendingPathComponent("small")
                try SmallFileSystem.mount(at: small, megabytes: 16)
                defer { SmallFileSystem.unmount(small) }
                let snapshots = small.appendingPathComponent("snapshots")
                let state = dir.appendingPathComponent("state")
                let log = dir.appendingPathComponent("process.log")
                FileManager.default.createFile(atPath: log.path, contents: nil)

                try await produce(broker, seed: 61)
                let process = broker.almProcess(["process", "--state-dir", state.path, "--snapshot-dir", snapshots.path,
                                                 "--snapshot-interval", "1"])
                let output = try FileHandle(forWritingTo: log)
                process.standardOutput = output
                process.standardError = output
                try process.run()
                defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
                let watcher = SnapshotWatcher(root: snapshots)
                let watching = Thread { watcher.run() }
                watching.start()
                defer { watcher.stop() }

                let writer = SnapshotWriter(root: snapshots, retain: 10)
                try await waitFor("a first snapshot") { try writer.latest() != nil }
                var expected = try await broker.expectedText()
                try await waitFor("the first input processed") { try snapshotText(state) == expected }

                // Read-only: snapshots fail with EROFS, processing goes on.
                try SmallFileSystem.remount(small, options: "ro")
                let beforeReadOnly = try #require(try writer.latest()).manifest.id
                try await produce(broker, seed: 62)
                expected = try await broker.expectedText()
                try await waitFor("the second input processed while snapshots fail") { try snapshotText(state) == expected }
                try await waitFor("two failed snapshots reported as read-only") {
                    occurrences(of: "Read-only file system", in: log) >= 2
                }
                #expect(try writer.latest()?.manifest.id == beforeReadOnly, "nothing written while read-only")

                // Full: writable again but no space; each attempt fails with ENOSPC and cleans up after itself.
                try SmallFileSystem.remount(small, options: "rw")
                let filler = small.appendingPathComponent("filler")
                try SmallFileSystem.fill(filler)
                let latestWhenFull = try writer.latest()?.manifest.id
                try await produce(broker, seed: 63)
                expected = try await broker.expectedText()
                try await waitFor("the third input processed while the disk is full") { try snapshotText(state) == expected }
                try await waitFor("two failed snapshots reported as no space") {
                    occurrences(of: "No space left on device", in: log) >= 2
                }
                #expect(try writer.latest()?.manifest.id == latestWhenFull, "nothing written while full")

                // Space back: the next periodic snapshot holds every number.
                try FileManager.default.removeItem(at: filler)
                try await waitFor("a snapshot with all three inputs") {
                    guard let latest = try writer.latest() else { return false }
                    let text = try String(contentsOf: latest.directory.appendingPathComponent(SnapshotWriter.jsonLinesFile), encoding: .utf8)
                    return text == expected + "\n"
                }
                process.terminate()
                #expect(await process.exitStatus() == 0, "SIGTERM after the faults is still a clean stop")
                watcher.stop()
                while !watching.isFinished { try await Task.sleep(for: .milliseconds(10)) }

                let text = try String(contentsOf: log, encoding: .utf8)
                #expect(text.contains("snapshot failed: ") && text.contains(snapshots.path), "errors name the directory:\n\(text)")
                #expect(watcher.invalid.isEmpty, "partial snapshots seen: \(watcher.invalid)")
                #expect(watcher.checked >= 3, "the watcher saw \(watcher.checked) snapshots")
                let leftovers = try FileManager.default.contentsOfDirectory(atPath: snapshots.path).filter { $0.hasPrefix(".") }
                #expect(leftovers.isEmpty, "temporary directories left: \(leftovers)")
            }
        }
    }

    private func produce(_ broker: DevBroker, seed: UInt64) async throws {
        let records = Workload(WorkloadSpec(records: 3_000, works: 300, seed: seed)).all()
        try await broker.produce(records.map { ProducerRecord(topic: $0.topic, key: $0.key, value: $0.value) })
    }

    private func occurrences(of phrase: String, in log: URL) -> Int {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.components(separatedBy: phrase).count - 1
    }

    private func waitFor(_ what: String, seconds: Int = 60, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw WaitError(description: "timed out after \(seconds) s waiting for \(what)")
    }
}

private struct WaitError: Error, CustomStringConvertible {
    var description: String
}

/// Reads every snapshot directory as soon as it is listed, as a reader of the snapshots would: each
/// one visible must verify against its manifest (checksums and counts). One pruned while being read is
/// not a failure.
private final class SnapshotWatcher: @unchecked Sendable {  // the counters are guarded by `lock`
    private let root: URL
    private let lock = NSLock()
    private let stopped = Atomic<Bool>(false)
    private var seen: Set<String> = []
    private var failures: [String] = []

    init(root: URL) { self.root = root }

    func stop() { stopped.store(true, ordering: .relaxed) }

    var checked: Int { lock.withLock { seen.count } }
    var invalid: [String] { lock.withLock { failures } }

    func run() {
        while !stopped.load(ordering: .relaxed) {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
            for name in names where !name.hasPrefix(".") && !lock.withLock({ seen.contains(name) }) {
                let directory = root.appendingPathComponent(name)
                do {
                    _ = try SnapshotWriter.verify(directory: directory)
                    lock.withLock { _ = seen.insert(name) }
                } catch {
                    if FileManager.default.fileExists(atPath: directory.path) {
                        lock.withLock { failures.append("\(name): \(error)") }
                    }
                }
            }
            usleep(20_000)
        }
    }
}

/// A small tmpfs, which needs the privilege to mount (root with CAP_SYS_ADMIN, as in CI).
private enum SmallFileSystem {
    struct MountError: Error, CustomStringConvertible {
        var description: String
    }

    static func mount(at directory: URL, megabytes: Int) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try run(["mount", "-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", directory.path],
                hint: "this test mounts a small tmpfs and needs root with CAP_SYS_ADMIN")
    }

    static func remount(_ directory: URL, options: String) throws {
        try run(["mount", "-o", "remount,\(options)", directory.path], hint: "remount \(options)")
    }

    static func unmount(_ directory: URL) {
        try? run(["umount", "-l", directory.path], hint: "umount")
    }

    /// Writes zeros to `file` until the file system is full.
    static func fill(_ file: URL) throws {
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw MountError(description: "cannot create \(file.path): errno \(errno)") }
        defer { close(descriptor) }
        let chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let written = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                guard errno == ENOSPC else { throw MountError(description: "filling \(file.path): errno \(errno)") }
                return
            }
            if written < chunk.count { return }  // the last bytes that fitted
        }
    }

    private static func run(_ arguments: [String], hint: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw MountError(description: "\(arguments.joined(separator: " ")) failed (\(hint)): \(message)")
        }
    }
}
