import Foundation
import Testing

@testable import ALMState

@Suite struct AtomicityTests {
    /// The batch after `committed` records: records `committed..<committed+count`, offsets and an
    /// aggregate and a counter that all say how many records are stored.
    static func batch(after committed: Int, count: Int, generation: Int = 0) -> StoreBatch {
        var batch = StoreBatch()
        batch.upsertRecords = (committed..<(committed + count)).map {
            (recordKey($0), recordValue($0, generation: generation))
        }
        if committed > 0 { batch.deleteRecords = [recordKey(committed - 1)] + [recordKey(committed + count + 5)] }
        batch.upsertAggregates = [("10.1/total", bytes(String(committed + count)))]
        if committed > 0 { batch.deleteAggregates = ["10.1/after-\(committed)"] }
        batch.upsertAggregates.append(("10.1/after-\(committed + count)", bytes("x")))
        batch.offsets = ["alm.raw.crossref": Int64(committed + count), "alm.raw.wikipedia": Int64(committed)]
        batch.counterIncrements = ["records_processed": Int64(count)]
        return batch
    }

    @Test(arguments: PartitionStore.CommitStep.allCases)
    func aCommitThatFailsMidwayChangesNothing(failingAt step: PartitionStore.CommitStep) throws {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 2)
            try store.commit(Self.batch(after: 0, count: 300))
            let before = try StoredState(of: store)

            store.commitStepHook = { current in
                if current == step { throw InjectedFailure() }
            }
            let error = #expect(throws: StoreError.self) { try store.commit(Self.batch(after: 300, count: 300)) }
            #expect(error?.message.contains("nothing of the batch was stored") == true)
            #expect(try StoredState(of: store) == before)

            // The store stays usable and the same batch commits once the failure is gone.
            store.commitStepHook = nil
            try store.commit(Self.batch(after: 300, count: 300))
            #expect(try store.offsets()["alm.raw.crossref"] == 600)
            #expect(try store.recordCount() == 600 - 1)
            store.close()

            let reopened = try PartitionStore(directory: directory, partition: 2)
            #expect(try reopened.offsets()["alm.raw.crossref"] == 600)
            reopened.close()
        }
    }

    /// A crash at each step of a commit, and after it: the files on disk at that instant (copied while
    /// the writer is stopped inside its transaction) open to exactly the state before the batch or
    /// exactly the state after it. The batch is larger than the page cache, so SQLite has already
    /// spilled uncommitted pages into the WAL when the copies are taken.
    @Test func theFilesLeftByACrashAtAnyStepHoldTheStateBeforeOrAfterTheBatch() throws {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 5, readOnly: false, cacheSizeKiB: 512)
            try store.commit(Self.batch(after: 0, count: 1_000))
            let before = try StoredState(of: store)
            let big = Self.batch(after: 1_000, count: 20_000)

            let crashDirectory = directory.appendingPathComponent("crash", isDirectory: true)
            let databaseURL = store.databaseURL
            let copiesMade = LockedCounter()
            store.commitStepHook = { step in
                let copy = crashDirectory.appendingPathComponent("\(step)", isDirectory: true)
                try copyDatabaseFiles(of: databaseURL, into: copy)
                copiesMade.increment()
            }
            try store.commit(big)
            store.commitStepHook = nil
            #expect(copiesMade.value == PartitionStore.CommitStep.allCases.count)
            let after = try StoredState(of: store)
            try copyDatabaseFiles(of: databaseURL, into: crashDirectory.appendingPathComponent("committed"))
            store.close()

            let walAtBegin = fileSize(crashDirectory.appendingPathComponent("began/partition-0005.sqlite-wal").path)
            let walBeforeCommit = fileSize(
                crashDirectory.appendingPathComponent("countersWritten/partition-0005.sqlite-wal").path)
            #expect(walBeforeCommit > walAtBegin + 1_000_000, "the WAL held uncommitted pages when the copy was taken")
            for step in PartitionStore.CommitStep.allCases {
                let copy = crashDirectory.appendingPathComponent("\(step)", isDirectory: true)
                let recovered = try PartitionStore(directory: copy, partition: 5)
                #expect(try StoredState(of: recovered) == before, "crash at \(step)")
                recovered.close()
            }

            let committed = try PartitionStore(
                directory: crashDirectory.appendingPathComponent("committed"), partition: 5)
            #expect(try StoredState(of: committed) == after)
            committed.close()
        }
    }
}

/// A real crash: a child process (this test binary, running `crashChildWriter` alone) commits batch
/// after batch and is killed with SIGKILL at an arbitrary instruction; each round the next child resumes
/// from the stored offsets, as the processor does. After every kill the stored state must be exactly
/// the one its stored offsets describe.
@Suite struct KilledWriterTests {
    static let directoryVariable = "ALM_STATE_CRASH_CHILD_DIRECTORY"
    static let topic = "alm.raw.crossref"
    static let partition: Int32 = 9

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/exe")))
    func aKilledWriterLeavesStateThatMatchesItsOffsets() throws {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        try withTemporaryDirectory { directory in
            var generator = SplitMix64(seed: 2024)
            var stored: Int64 = 0
            for round in 0..<8 {
                let child = Process()
                child.executableURL = URL(fileURLWithPath: executable)
                child.arguments = ["--testing-library", "swift-testing", "--filter", "crashChildWriter"]
                var environment = ProcessInfo.processInfo.environment
                environment[Self.directoryVariable] = directory.path
                child.environment = environment
                child.standardOutput = FileHandle.nullDevice
                child.standardError = FileHandle.nullDevice
                try child.run()
                defer {
                    if child.isRunning { kill(child.processIdentifier, SIGKILL) }
                    child.waitUntilExit()
                }

                // Watch the child's progress through a read-only store: every state seen while it
                // writes must already be consistent.
                let target = stored + 2_000
                let deadline = Date().addingTimeInterval(60)
                var reader: PartitionStore?
                defer { reader?.close() }
                var seen: Int64 = -1
                while seen < target {
                    try #require(child.isRunning, "round \(round): the child writer exited")
                    try #require(Date() < deadline, "round \(round): the child writer made no progress")
                    usleep(10_000)
                    if reader == nil {
                        reader = try? PartitionStore(directory: directory, partition: Self.partition, readOnly: true)
                    }
                    if let reader {
                        seen = try reader.read { view in try Self.verify(view, everyRecord: false) }
                    }
                }
                usleep(UInt32.random(in: 0...30_000, using: &generator))
                kill(child.processIdentifier, SIGKILL)
                child.waitUntilExit()
                #expect(child.terminationReason == .uncaughtSignal, "round \(round): the child was not killed")

                let recovered = try PartitionStore(directory: directory, partition: Self.partition)
                let recoveredOffset = try recovered.read { view in try Self.verify(view, everyRecord: true) }
                recovered.close()
                #expect(recoveredOffset >= seen, "round \(round): a committed batch was lost")
                stored = recoveredOffset
            }
        }
    }

    /// Checks that records, aggregate and counter are exactly those of the stored offset; returns it.
    /// `everyRecord`: compare each record with the one the child wrote, not only their number.
    static func verify(_ view: StoreView, everyRecord: Bool) throws -> Int64 {
        let offset = try view.offsets()[topic] ?? 0
        if everyRecord {
            var expectedIndex = 0
            try view.forEachRecord { key, value in
                if key != recordKey(expectedIndex) || value != recordValue(expectedIndex) {
                    throw Mismatch(description: "record \(expectedIndex) is wrong")
                }
                expectedIndex += 1
            }
        }
        let count = try view.recordCount()
        guard Int64(count) == offset else {
            throw Mismatch(description: "\(count) records stored but the offset says \(offset)")
        }
        let total = try view.aggregate(work: "10.1/total").map { String(decoding: $0, as: UTF8.self) }
        guard total == (offset == 0 ? nil : String(offset)) else {
            throw Mismatch(description: "aggregate says \(total ?? "nothing"), the offset \(offset)")
        }
        guard try view.counters()["records_processed"] ?? 0 == offset else {
            throw Mismatch(description: "counter disagrees with offset \(offset)")
        }
        return offset
    }

    struct Mismatch: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs only in the child process the test above starts; commits until it is killed (or its
    /// parent has gone, or a minute has passed).
    @Test(.enabled(if: ProcessInfo.processInfo.environment[directoryVariable] != nil))
    func crashChildWriter() throws {
        let directory = URL(fileURLWithPath: ProcessInfo.processInfo.environment[Self.directoryVariable]!)
        let parent = getppid()
        let store = try PartitionStore(directory: directory, partition: Self.partition)
        var committed = Int(try store.offsets()[Self.topic] ?? 0)
        var generator = SplitMix64(seed: UInt64(committed))
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && getppid() == parent {
            let count = Int.random(in: 1...500, using: &generator)
            var batch = StoreBatch()
            batch.upsertRecords = (committed..<(committed + count)).map { (recordKey($0), recordValue($0)) }
            batch.upsertAggregates = [("10.1/total", bytes(String(committed + count)))]
            batch.offsets = [Self.topic: Int64(committed + count)]
            batch.counterIncrements = ["records_processed": Int64(count)]
            try store.commit(batch)
            committed += count
        }
        store.close()
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
