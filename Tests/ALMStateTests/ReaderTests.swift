import Foundation
import Testing

@testable import ALMState

/// Read-only stores beside the writer, as `alm snapshot` and the HTTP server use them.
@Suite struct ReaderTests {
    static func batch(records range: Range<Int>) -> StoreBatch {
        var batch = StoreBatch()
        batch.upsertRecords = range.map { (recordKey($0), recordValue($0)) }
        batch.upsertAggregates = [("10.1/total", bytes(String(range.upperBound)))]
        batch.offsets = ["alm.raw.crossref": Int64(range.upperBound)]
        batch.counterIncrements = ["records_processed": Int64(range.count)]
        return batch
    }

    @Test func aReaderSeesTheLastCommitAndNeverBlocksTheWriter() throws {
        try withTemporaryDirectory { directory in
            let writer = try PartitionStore(directory: directory, partition: 0)
            try writer.commit(Self.batch(records: 0..<100))
            let reader = try PartitionStore(directory: directory, partition: 0, readOnly: true)
            #expect(try reader.offsets() == ["alm.raw.crossref": 100])

            try reader.read { view in
                #expect(try view.recordCount() == 100)
                // The writer commits twice while the reader's transaction is open: neither commit waits.
                let start = Date()
                try writer.commit(Self.batch(records: 100..<200))
                try writer.commit(Self.batch(records: 200..<300))
                #expect(Date().timeIntervalSince(start) < 2)
                // The open view still sees the state it started with, all of it.
                #expect(try view.recordCount() == 100)
                #expect(try view.offsets() == ["alm.raw.crossref": 100])
                #expect(try view.aggregate(work: "10.1/total") == bytes("100"))
            }
            // The next read sees the last commit.
            #expect(try reader.offsets() == ["alm.raw.crossref": 300])
            #expect(try reader.recordCount() == 300)
            #expect(try StoredState(of: reader) == StoredState(of: writer))

            // A reader opened while the committed pages are still only in the WAL sees them too.
            let late = try PartitionStore(directory: directory, partition: 0, readOnly: true)
            #expect(try late.recordCount() == 300)
            late.close()
            reader.close()
            writer.close()
        }
    }

    /// A writer thread commits batches while readers on this thread read: every state a reader sees
    /// is one whole commit (records, aggregate, counter and offset agree) and never goes back.
    @Test func readersOnOtherThreadsAlwaysSeeWholeCommits() throws {
        try withTemporaryDirectory { directory in
            let writer = try PartitionStore(directory: directory, partition: 0)
            try writer.commit(Self.batch(records: 0..<1))
            let batches = 150
            let writerDone = DispatchSemaphore(value: 0)
            let writerFailure = LockedError()
            Thread.detachNewThread {
                defer { writerDone.signal() }
                do {
                    var next = 1
                    for number in 0..<batches {
                        let count = 1 + (number * 37) % 400
                        try writer.commit(Self.batch(records: next..<(next + count)))
                        next += count
                    }
                } catch {
                    writerFailure.set(error)
                }
            }

            let reader = try PartitionStore(directory: directory, partition: 0, readOnly: true)
            var lastSeen: Int64 = 0
            var reads = 0
            var finished = false
            while !finished {
                finished = writerDone.wait(timeout: .now()) == .success
                let offset = try reader.read { view in
                    let offset = try view.offsets()["alm.raw.crossref"] ?? 0
                    #expect(try view.recordCount() == Int(offset))
                    #expect(try view.aggregate(work: "10.1/total") == bytes(String(offset)))
                    #expect(try view.counters()["records_processed"] == offset)
                    return offset
                }
                #expect(offset >= lastSeen)
                lastSeen = offset
                reads += 1
            }
            #expect(writerFailure.error == nil)
            #expect(reads > 1)
            #expect(try reader.offsets() == writer.offsets())
            reader.close()
            writer.close()
        }
    }
}

final class LockedError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    func set(_ error: any Error) { lock.withLock { stored = error } }
    var error: (any Error)? { lock.withLock { stored } }
}
