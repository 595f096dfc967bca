import Foundation
import Testing

@testable import ALMState

/// What `PartitionStore.init` says about files that are not a sound state store of the partition.
@Suite struct FileValidationTests {
    /// Opens partition `partition` (writable and read-only) and returns the error both opens throw.
    func openingFails(
        _ directory: URL, partition: Int32, sourceLocation: SourceLocation = #_sourceLocation
    ) -> StoreError? {
        let writable = #expect(throws: StoreError.self, sourceLocation: sourceLocation) {
            try PartitionStore(directory: directory, partition: partition)
        }
        let readOnly = #expect(throws: StoreError.self, sourceLocation: sourceLocation) {
            try PartitionStore(directory: directory, partition: partition, readOnly: true)
        }
        #expect(writable?.code == readOnly?.code, sourceLocation: sourceLocation)
        return writable
    }

    func makeStore(_ directory: URL, partition: Int32, records: Int = 2_000) throws {
        let store = try PartitionStore(directory: directory, partition: partition)
        var batch = StoreBatch()
        batch.upsertRecords = (0..<records).map { (recordKey($0), recordValue($0)) }
        batch.offsets = ["t": Int64(records)]
        try store.commit(batch)
        store.close()
    }

    @Test func aFileOfGarbageIsCorruptAndTheErrorNamesIt() throws {
        try withTemporaryDirectory { directory in
            var generator = SplitMix64(seed: 1)
            let garbage = Data((0..<16_384).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let url = PartitionStore.fileURL(directory: directory, partition: 1)
            try garbage.write(to: url)
            let error = openingFails(directory, partition: 1)
            #expect(error?.code == .corrupt)
            #expect(error?.path == url.path)
            #expect(error?.description.contains("partition-0001.sqlite") == true)
            // The garbage is left alone for an operator to look at.
            #expect(try Data(contentsOf: url) == garbage)
        }
    }

    @Test func aShortTextFileIsCorrupt() throws {
        try withTemporaryDirectory { directory in
            try Data("not a database\n".utf8).write(to: PartitionStore.fileURL(directory: directory, partition: 1))
            #expect(openingFails(directory, partition: 1)?.code == .corrupt)
        }
    }

    @Test func aTruncatedFileIsCorrupt() throws {
        try withTemporaryDirectory { directory in
            try makeStore(directory, partition: 1)
            let url = PartitionStore.fileURL(directory: directory, partition: 1)
            let size = fileSize(url.path)
            #expect(size > 100_000)
            let handle = try FileHandle(forWritingTo: url)
            try handle.truncate(atOffset: UInt64(size / 2))
            try handle.close()
            let error = openingFails(directory, partition: 1)
            #expect(error?.code == .corrupt)
            #expect(error?.description.contains("partition-0001.sqlite") == true)
        }
    }

    @Test func anotherPartitionsFileIsIncompatible() throws {
        try withTemporaryDirectory { directory in
            try makeStore(directory, partition: 3)
            try FileManager.default.moveItem(
                at: PartitionStore.fileURL(directory: directory, partition: 3),
                to: PartitionStore.fileURL(directory: directory, partition: 4))
            let error = openingFails(directory, partition: 4)
            #expect(error?.code == .incompatible)
            #expect(error?.message.contains("partition 3") == true)
        }
    }

    @Test func anotherSchemaVersionIsIncompatible() throws {
        try withTemporaryDirectory { directory in
            try makeStore(directory, partition: 1)
            let url = PartitionStore.fileURL(directory: directory, partition: 1)
            try PartitionStore.executeUncheckedSQL(
                "UPDATE meta SET value = 99 WHERE key = 'schema_version'", databaseAt: url)
            let error = openingFails(directory, partition: 1)
            #expect(error?.code == .incompatible)
            #expect(error?.message.contains("schema_version is 99") == true)
        }
    }

    @Test func anotherApplicationsDatabaseIsIncompatible() throws {
        try withTemporaryDirectory { directory in
            let url = PartitionStore.fileURL(directory: directory, partition: 1)
            try PartitionStore.executeUncheckedSQL(
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)", databaseAt: url)
            let error = openingFails(directory, partition: 1)
            #expect(error?.code == .incompatible)
            #expect(error?.message.contains("not an ALM partition state store") == true)
        }
    }

    @Test func aStoreMissingATableIsCorrupt() throws {
        try withTemporaryDirectory { directory in
            try makeStore(directory, partition: 1)
            let url = PartitionStore.fileURL(directory: directory, partition: 1)
            try PartitionStore.executeUncheckedSQL("DROP TABLE aggregates", databaseAt: url)
            let error = openingFails(directory, partition: 1)
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("aggregates") == true)
        }
    }

    @Test func aStoreWithoutSchemaVersionIsCorrupt() throws {
        try withTemporaryDirectory { directory in
            try makeStore(directory, partition: 1)
            let url = PartitionStore.fileURL(directory: directory, partition: 1)
            try PartitionStore.executeUncheckedSQL("DELETE FROM meta WHERE key = 'schema_version'", databaseAt: url)
            #expect(openingFails(directory, partition: 1)?.code == .corrupt)
        }
    }

    /// A crash between creating the file and committing the schema leaves an empty file: it holds no
    /// state, so the writer starts afresh; a reader finds nothing to read.
    @Test func anEmptyFileIsANewStore() throws {
        try withTemporaryDirectory { directory in
            let url = PartitionStore.fileURL(directory: directory, partition: 1)
            try Data().write(to: url)
            let readError = #expect(throws: StoreError.self) {
                try PartitionStore(directory: directory, partition: 1, readOnly: true)
            }
            #expect(readError?.code == .notFound)

            let store = try PartitionStore(directory: directory, partition: 1)
            #expect(store.isNew)
            var batch = StoreBatch()
            batch.offsets = ["t": 1]
            try store.commit(batch)
            store.close()
            let reopened = try PartitionStore(directory: directory, partition: 1, readOnly: true)
            #expect(try reopened.offsets() == ["t": 1])
            reopened.close()
        }
    }

    @Test func aReadOnlyOpenOfAMissingPartitionIsNotFoundAndCreatesNothing() throws {
        try withTemporaryDirectory { directory in
            let missing = directory.appendingPathComponent("state", isDirectory: true)
            let error = #expect(throws: StoreError.self) {
                try PartitionStore(directory: missing, partition: 1, readOnly: true)
            }
            #expect(error?.code == .notFound)
            #expect(!FileManager.default.fileExists(atPath: missing.path))
        }
    }
}
