import Foundation
import Testing

@testable import ALMState

@Suite struct DirectoryTests {
    @Test func fileNamesAreZeroPaddedToFourDigits() {
        let directory = URL(fileURLWithPath: "/state", isDirectory: true)
        #expect(PartitionStore.fileURL(directory: directory, partition: 0).path == "/state/partition-0000.sqlite")
        #expect(PartitionStore.fileURL(directory: directory, partition: 83).path == "/state/partition-0083.sqlite")
        #expect(
            PartitionStore.fileURL(directory: directory, partition: 12345).path == "/state/partition-12345.sqlite")
    }

    @Test func partitionsListsTheDatabaseFilesSorted() throws {
        try withTemporaryDirectory { directory in
            for partition: Int32 in [12, 3, 10000] {
                try PartitionStore(directory: directory, partition: partition).close()
            }
            // Files that are not a partition database by fileURL's naming are not listed.
            let others = [
                "partition-12.sqlite", "partition-00012.sqlite", "partition-0005.sqlite-wal", "partition-0006.lock",
                "partition-abcd.sqlite", "notes.txt",
            ]
            for name in others {
                try Data().write(to: directory.appendingPathComponent(name))
            }
            #expect(try PartitionStore.partitions(in: directory) == [3, 12, 10000])
        }
    }

    @Test func aMissingDirectoryHasNoPartitions() throws {
        try withTemporaryDirectory { directory throws in
            #expect(try PartitionStore.partitions(in: directory.appendingPathComponent("absent")) == [])
        }
    }

    @Test func removeDeletesTheDatabaseItsWALAndItsSharedMemoryFile() throws {
        try withTemporaryDirectory { directory in
            let writer = try PartitionStore(directory: directory, partition: 2)
            var batch = StoreBatch()
            batch.upsertRecords = [(bytes("k"), bytes("v"))]
            try writer.commit(batch)
            // While a reader has the file open, the writer's close cannot delete the WAL and index.
            let reader = try PartitionStore(directory: directory, partition: 2, readOnly: true)
            writer.close()
            let path = PartitionStore.fileURL(directory: directory, partition: 2).path
            for file in [path, path + "-wal", path + "-shm"] {
                try #require(FileManager.default.fileExists(atPath: file), "\(file) should exist before remove")
            }
            try PartitionStore(directory: directory, partition: 3).close()

            try PartitionStore.remove(directory: directory, partition: 2)
            for file in [path, path + "-wal", path + "-shm"] {
                #expect(!FileManager.default.fileExists(atPath: file), "\(file) is left")
            }
            #expect(try PartitionStore.partitions(in: directory) == [3])
            // The reader keeps the deleted file it had open.
            #expect(try reader.recordCount() == 1)
            reader.close()
            // Removing again, or in a missing directory, is not an error.
            try PartitionStore.remove(directory: directory, partition: 2)
            try PartitionStore.remove(directory: directory.appendingPathComponent("absent"), partition: 2)
            // A new store of that partition starts empty.
            let fresh = try PartitionStore(directory: directory, partition: 2)
            #expect(fresh.isNew)
            fresh.close()
        }
    }

    @Test func removeRefusesWhileTheWriterHasThePartitionOpen() throws {
        try withTemporaryDirectory { directory in
            let writer = try PartitionStore(directory: directory, partition: 2)
            let error = #expect(throws: StoreError.self) {
                try PartitionStore.remove(directory: directory, partition: 2)
            }
            #expect(error?.code == .locked)
            #expect(FileManager.default.fileExists(atPath: writer.databaseURL.path))
            writer.close()
            try PartitionStore.remove(directory: directory, partition: 2)
            #expect(try PartitionStore.partitions(in: directory) == [])
        }
    }

    @Test func aPartitionHasOneWriterAtATime() throws {
        try withTemporaryDirectory { directory in
            let first = try PartitionStore(directory: directory, partition: 4)
            let error = #expect(throws: StoreError.self) { try PartitionStore(directory: directory, partition: 4) }
            #expect(error?.code == .locked)
            // Other partitions and readers are not affected.
            let other = try PartitionStore(directory: directory, partition: 5)
            let reader = try PartitionStore(directory: directory, partition: 4, readOnly: true)
            first.close()
            let second = try PartitionStore(directory: directory, partition: 4)
            #expect(!second.isNew)
            second.close()
            other.close()
            reader.close()
        }
    }

    @Test func theStateDirectoryIsCreatedWhenMissing() throws {
        try withTemporaryDirectory { directory in
            let nested = directory.appendingPathComponent("a/b/state", isDirectory: true)
            let store = try PartitionStore(directory: nested, partition: 0)
            #expect(FileManager.default.fileExists(atPath: store.databaseURL.path))
            store.close()
        }
    }
}
