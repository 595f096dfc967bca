import Foundation
import Testing

@testable import ALMState

@Suite struct RoundTripTests {
    @Test func aNewStoreIsEmptyAndKnowsItIsNew() throws {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 7)
            #expect(store.isNew)
            #expect(store.partition == 7)
            #expect(store.databaseURL.lastPathComponent == "partition-0007.sqlite")
            #expect(try StoredState(of: store) == StoredState())
            #expect(try store.recordCount() == 0)
            store.close()

            let reopened = try PartitionStore(directory: directory, partition: 7)
            #expect(!reopened.isNew)
            reopened.close()
        }
    }

    @Test func everythingCommittedIsReadBackAfterReopening() throws {
        try withTemporaryDirectory { directory in
            var batch = StoreBatch()
            batch.upsertRecords = (0..<500).map { (recordKey($0), recordValue($0)) }
            batch.upsertAggregates = [("10.1234/abc", bytes(#"{"work":"10.1234/abc"}"#)), ("10.5555/x", bytes("{}"))]
            batch.offsets = ["alm.raw.crossref": 500, "alm.raw.wikipedia": 12]
            batch.counterIncrements = ["records_processed": 512, "records_rejected": 3]
            #expect(!batch.isEmpty)

            var expected = StoredState()
            for (key, value) in batch.upsertRecords { expected.records[key] = value }
            expected.recordKeysInOrder = (0..<500).map(recordKey)
            expected.aggregates = ["10.1234/abc": bytes(#"{"work":"10.1234/abc"}"#), "10.5555/x": bytes("{}")]
            expected.aggregateWorksInOrder = ["10.1234/abc", "10.5555/x"]
            expected.offsets = batch.offsets
            expected.counters = batch.counterIncrements

            let store = try PartitionStore(directory: directory, partition: 1)
            try store.commit(batch)
            #expect(try StoredState(of: store) == expected)
            // The single-call readers agree with the view.
            #expect(try store.offsets() == expected.offsets)
            #expect(try store.counters() == expected.counters)
            #expect(try store.recordCount() == 500)
            #expect(try store.aggregate(work: "10.5555/x") == bytes("{}"))
            #expect(try store.aggregate(work: "10.9999/absent") == nil)
            store.close()

            let reopened = try PartitionStore(directory: directory, partition: 1)
            #expect(!reopened.isNew)
            #expect(try StoredState(of: reopened) == expected)
            reopened.close()
            let reader = try PartitionStore(directory: directory, partition: 1, readOnly: true)
            #expect(try StoredState(of: reader) == expected)
            reader.close()
        }
    }

    @Test func recordsComeBackInBytewiseKeyOrder() throws {
        try withTemporaryDirectory { directory in
            let keys: [[UInt8]] = [[0xFF], [1, 0], [1], [0x7F, 0xFF, 0xFF], [0x80], [], [0], [1, 0, 0]]
            let store = try PartitionStore(directory: directory, partition: 0)
            var batch = StoreBatch()
            batch.upsertRecords = keys.map { ($0, $0 + [42]) }
            try store.commit(batch)
            var seen: [[UInt8]] = []
            try store.forEachRecord { key, value in
                #expect(value == key + [42])
                seen.append(key)
            }
            #expect(seen == [[], [0], [1], [1, 0], [1, 0, 0], [0x7F, 0xFF, 0xFF], [0x80], [0xFF]])
            store.close()
        }
    }

    @Test func emptyKeysValuesAndLinesRoundTrip() throws {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 0)
            var batch = StoreBatch()
            batch.upsertRecords = [([], []), ([1], [])]
            batch.upsertAggregates = [("", []), ("10.1/empty", [])]
            try store.commit(batch)
            let state = try StoredState(of: store)
            #expect(state.records == [[]: [], [1]: []])
            #expect(state.aggregates == ["": [], "10.1/empty": []])
            #expect(try store.aggregate(work: "10.1/empty") == [])
            store.close()
        }
    }

    @Test func upsertsReplaceAndTheLastEntryForAKeyWins() throws {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 0)
            var first = StoreBatch()
            first.upsertRecords = [(bytes("a"), bytes("1")), (bytes("b"), bytes("1"))]
            first.upsertAggregates = [("10.1/a", bytes("1"))]
            try store.commit(first)

            var second = StoreBatch()
            second.upsertRecords = [(bytes("a"), bytes("2")), (bytes("a"), bytes("3"))]
            second.upsertAggregates = [("10.1/a", bytes("2")), ("10.1/a", bytes("3"))]
            try store.commit(second)

            let state = try StoredState(of: store)
            #expect(state.records == [bytes("a"): bytes("3"), bytes("b"): bytes("1")])
            #expect(state.aggregates == ["10.1/a": bytes("3")])
            store.close()
        }
    }

    @Test func deletesRemoveRecordsAndAggregatesAndMissingKeysAreFine() throws {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 0)
            var first = StoreBatch()
            first.upsertRecords = (0..<10).map { (recordKey($0), recordValue($0)) }
            first.upsertAggregates = [("10.1/a", bytes("a")), ("10.1/b", bytes("b"))]
            try store.commit(first)

            var second = StoreBatch()
            second.deleteRecords = [recordKey(3), recordKey(7), recordKey(99)]
            second.deleteAggregates = ["10.1/a", "10.1/never-stored"]
            second.offsets = ["alm.raw.crossref": 10]
            try store.commit(second)

            let state = try StoredState(of: store)
            #expect(state.recordKeysInOrder == [0, 1, 2, 4, 5, 6, 8, 9].map(recordKey))
            #expect(state.aggregates == ["10.1/b": bytes("b")])
            #expect(state.offsets == ["alm.raw.crossref": 10])
            store.close()
        }
    }

    @Test func offsetsReplaceOnlyTheTopicsGiven() throws {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 0)
            var first = StoreBatch()
            first.offsets = ["alm.raw.crossref": 100, "alm.raw.wikipedia": 5]
            try store.commit(first)
            var second = StoreBatch()
            second.offsets = ["alm.raw.crossref": 40, "alm.raw.bluesky": 0]
            try store.commit(second)
            #expect(try store.offsets() == ["alm.raw.crossref": 40, "alm.raw.wikipedia": 5, "alm.raw.bluesky": 0])
            store.close()
        }
    }

    @Test func countersAddUp() throws {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 0)
            for increment: Int64 in [5, 7, -2] {
                var batch = StoreBatch()
                batch.counterIncrements = ["records_processed": increment, "records_rejected": 1]
                try store.commit(batch)
            }
            #expect(try store.counters() == ["records_processed": 10, "records_rejected": 3])
            store.close()
        }
    }

    @Test func aggregatesAreIteratedInUTF8ByteOrder() throws {
        try withTemporaryDirectory { directory in
            // Byte order puts upper case before lower case and every non-ASCII character after ASCII;
            // a locale-aware or case-insensitive order would not.
            let works = ["10.1/é", "10.1/a", "10.1/B", "10.1/𝔸", "10.1/ä", "10.1/Z", "10.1/b", "10.1/~", "10.10/a"]
            let store = try PartitionStore(directory: directory, partition: 0)
            var batch = StoreBatch()
            batch.upsertAggregates = works.map { ($0, bytes($0)) }
            try store.commit(batch)

            var seen: [String] = []
            try store.forEachAggregate { work, line in
                #expect(line == bytes(work))
                seen.append(work)
            }
            #expect(
                seen == ["10.1/B", "10.1/Z", "10.1/a", "10.1/b", "10.1/~", "10.1/ä", "10.1/é", "10.1/𝔸", "10.10/a"])
            #expect(seen == works.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
            store.close()
        }
    }

    @Test func workIdsAreKeyedByTheirBytesNotBySwiftStringEquality() throws {
        try withTemporaryDirectory { directory in
            let composed = "10.1/caf\u{E9}"
            let decomposed = "10.1/cafe\u{301}"
            #expect(composed == decomposed)  // Swift identifies them; the store must not.
            let store = try PartitionStore(directory: directory, partition: 0)
            var batch = StoreBatch()
            batch.upsertAggregates = [(composed, bytes("composed")), (decomposed, bytes("decomposed"))]
            try store.commit(batch)
            #expect(try store.aggregate(work: composed) == bytes("composed"))
            #expect(try store.aggregate(work: decomposed) == bytes("decomposed"))
            var seenBytes: [[UInt8]] = []
            try store.forEachAggregate { work, _ in seenBytes.append(Array(work.utf8)) }
            #expect(seenBytes == [Array(decomposed.utf8), Array(composed.utf8)])
            store.close()
        }
    }

    @Test func aBatchThatBreaksARuleIsRejectedWhole() throws {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 0)
            var good = StoreBatch()
            good.upsertRecords = [(bytes("kept"), bytes("1"))]
            good.offsets = ["t": 1]
            try store.commit(good)
            let before = try StoredState(of: store)

            var bothRecord = StoreBatch()
            bothRecord.upsertRecords = [(bytes("x"), bytes("1")), (bytes("y"), bytes("1"))]
            bothRecord.deleteRecords = [bytes("y")]
            bothRecord.offsets = ["t": 2]
            var bothAggregate = StoreBatch()
            bothAggregate.upsertAggregates = [("10.1/a", bytes("1"))]
            bothAggregate.deleteAggregates = ["10.1/a"]
            var negativeOffset = StoreBatch()
            negativeOffset.upsertRecords = [(bytes("x"), bytes("1"))]
            negativeOffset.offsets = ["t": -1]
            var nulInWork = StoreBatch()
            nulInWork.upsertAggregates = [("10.1/a\u{0}b", bytes("1"))]

            for batch in [bothRecord, bothAggregate, negativeOffset, nulInWork] {
                let error = #expect(throws: StoreError.self) { try store.commit(batch) }
                #expect(error?.code == .invalidBatch)
            }
            #expect(try StoredState(of: store) == before)
            store.close()
        }
    }

    @Test func anEmptyBatchIsAccepted() throws {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 0)
            #expect(StoreBatch().isEmpty)
            try store.commit(StoreBatch())
            #expect(try StoredState(of: store) == StoredState())
            store.close()
        }
    }

    @Test func aClosedStoreThrowsClosedAndClosingTwiceIsFine() throws {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 0)
            store.close()
            store.close()
            #expect(throws: StoreError.self) { try store.offsets() }
            let error = #expect(throws: StoreError.self) { try store.commit(StoreBatch()) }
            #expect(error?.code == .closed)
        }
    }

    @Test func aReadOnlyStoreRefusesToCommit() throws {
        try withTemporaryDirectory { directory in
            let writer = try PartitionStore(directory: directory, partition: 0)
            let reader = try PartitionStore(directory: directory, partition: 0, readOnly: true)
            #expect(reader.isReadOnly && !reader.isNew)
            var batch = StoreBatch()
            batch.offsets = ["t": 1]
            let error = #expect(throws: StoreError.self) { try reader.commit(batch) }
            #expect(error?.code == .notWritable)
            reader.close()
            writer.close()
        }
    }

    @Test func fileSizeCountsTheDatabaseAndItsWAL() throws {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 0)
            let empty = try store.fileSizeBytes()
            var batch = StoreBatch()
            batch.upsertRecords = (0..<1_000).map { (recordKey($0), recordValue($0)) }
            try store.commit(batch)
            let path = store.databaseURL.path
            let full = try store.fileSizeBytes()
            #expect(full > empty)
            #expect(full >= 100_000)
            #expect(full == Int64(fileSize(path) + fileSize(path + "-wal")))
            store.close()
        }
    }
}
