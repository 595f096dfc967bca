import ALMAggregation
import ALMCore
import Foundation
import Synchronization
import Testing
@testable import ALMSnapshot

/// Manifest, determinism, ids, retention, listing.
@Suite struct SnapshotWriterTests {
    @Test func theReferenceSHA256IsRight() {
        #expect(ReferenceSHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ReferenceSHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(ReferenceSHA256.hex(Array(repeating: UInt8(ascii: "a"), count: 1000)).hasPrefix("41edece42d63e8d9"))
    }

    @Test func theManifestDescribesTheFilesAndTheInput() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = SnapshotWriter(root: directory.snapshots, retain: 5)
        let offsets: [String: [String: Int64]] = ["alm.raw.events": ["0": 120, "1": 98], "alm.raw.totals": ["0": 7]]
        let (snapshot, manifest) = try writer.write(
            Samples.works, inputOffsets: offsets, recordCounts: ["records_processed": 240, "records_rejected": 3, "works": 999],
            createdAt: try date("2026-11-22T08:17:00.123Z"))

        #expect(snapshot == directory.snapshots.appendingPathComponent("20261122T081700.123Z", isDirectory: true))
        #expect(entries(snapshot) == ["manifest.json", "works.csv", "works.jsonl"])
        #expect(manifest.schemaVersion == 1)
        #expect(manifest.id == "20261122T081700.123Z")
        #expect(manifest.createdAt == "2026-11-22T08:17:00.123Z")
        #expect(manifest.asOf == nil)
        #expect(manifest.works == 5)
        #expect(manifest.inputOffsets == offsets)
        #expect(manifest.recordCounts == ["records_processed": 240, "records_rejected": 3, "works": 5])
        #expect(Set(manifest.files.keys) == ["works.jsonl", "works.csv"])
        for (name, digest) in manifest.files {
            let content = try bytes(snapshot.appendingPathComponent(name))
            #expect(digest.sha256 == ReferenceSHA256.hex(content), "\(name)")
            #expect(digest.bytes == Int64(content.count), "\(name)")
            #expect(digest.lines == content.filter { $0 == 0x0A }.count, "\(name)")
        }

        // manifest.json: the returned manifest, pretty-printed with sorted snake_case keys and a final newline.
        let manifestBytes = try bytes(snapshot.appendingPathComponent("manifest.json"))
        #expect(manifestBytes.last == 0x0A)
        #expect(try JSONDecoder().decode(SnapshotManifest.self, from: Data(manifestBytes)) == manifest)
        let manifestText = String(decoding: manifestBytes, as: UTF8.self)
        // Top-level keys are the lines indented by two spaces, in sorted order.
        let topKeys = manifestText.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  \""), !line.hasPrefix("   ") else { return nil }
            return String(line.dropFirst(3).prefix { $0 != "\"" })
        }
        #expect(topKeys == ["created_at", "files", "id", "input_offsets", "record_counts", "schema_version", "works"])
        #expect(manifestText.hasPrefix("{\n  \"created_at\" : \"2026-11-22T08:17:00.123Z\",\n"))
        #expect(!manifestText.contains("as_of"))
        #expect(!manifestText.contains("\\/"))

        #expect(try SnapshotWriter.verify(directory: snapshot) == manifest)
    }

    @Test func anAsOfSnapshotRecordsItsInstant() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (snapshot, manifest) = try SnapshotWriter(root: directory.snapshots, retain: 5)
            .write(Samples.works, asOf: "2026-03-01T00:00:00Z")
        #expect(manifest.asOf == "2026-03-01T00:00:00Z")
        #expect(try text(snapshot.appendingPathComponent("manifest.json")).contains(#""as_of" : "2026-03-01T00:00:00Z""#))
    }

    @Test func equalAggregatesInAnyOrderGiveIdenticalFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = SnapshotWriter(root: directory.snapshots, retain: 10)
        let works = Samples.works + Samples.random(count: 500, seed: 42)
        var generator = SplitMix64(seed: 9)

        let first = try writer.write(works, createdAt: try date("2026-01-01T00:00:00Z"))
        let second = try writer.write(works.shuffled(using: &generator), createdAt: try date("2026-01-01T00:00:01Z"))
        let third = try writer.write(works.reversed(), createdAt: try date("2026-01-01T00:00:01Z"))

        #expect(Set([first.manifest.id, second.manifest.id, third.manifest.id]).count == 3)
        for name in ["works.jsonl", "works.csv"] {
            let reference = try bytes(first.directory.appendingPathComponent(name))
            #expect(try bytes(second.directory.appendingPathComponent(name)) == reference, "\(name)")
            #expect(try bytes(third.directory.appendingPathComponent(name)) == reference, "\(name)")
        }
        #expect(first.manifest.files == second.manifest.files && second.manifest.files == third.manifest.files)
    }

    @Test func snapshotsOfTheSameMillisecondGetNumberedIDs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = SnapshotWriter(root: directory.snapshots, retain: 20)
        let instant = try date("2026-11-22T08:17:00.123Z")

        let ids = try (0..<11).map { _ in try writer.write(Samples.works, createdAt: instant).manifest.id }
        #expect(ids == ["20261122T081700.123Z"] + (2...11).map { "20261122T081700.123Z-\($0)" })
        #expect(entries(directory.snapshots) == ids.sorted())
        // Newest first, and -10 comes after -9.
        #expect(try writer.list().map(\.id) == ids.reversed())
        for id in ids {
            let manifest = try SnapshotWriter.verify(directory: directory.snapshots.appendingPathComponent(id))
            #expect(manifest.id == id && manifest.createdAt == "2026-11-22T08:17:00.123Z")
        }
    }

    @Test func concurrentWritersOfOneInstantEachGetTheirOwnID() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = SnapshotWriter(root: directory.snapshots, retain: 100)
        let instant = try date("2026-05-05T05:05:05.005Z")
        let ids = Mutex<[String]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            do {
                let id = try writer.write(Samples.works, createdAt: instant).manifest.id
                ids.withLock { $0.append(id) }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        let written = ids.withLock { $0 }.sorted(by: SnapshotID.precedes)
        #expect(written == ["20260505T050505.005Z"] + (2...8).map { "20260505T050505.005Z-\($0)" })
        #expect(entries(directory.snapshots) == written.sorted())
        for id in written {
            #expect(try SnapshotWriter.verify(directory: directory.snapshots.appendingPathComponent(id)).id == id)
        }
    }

    @Test func idsOrderByTimeThenByNumber() {
        let ordered = ["20251231T235959.999Z", "20260101T000000.000Z", "20260101T000000.000Z-2",
                       "20260101T000000.000Z-9", "20260101T000000.000Z-10", "20260101T000000.001Z"]
        #expect(ordered.shuffled().sorted(by: SnapshotID.precedes) == ordered)
        #expect(SnapshotID.make(for: Date(timeIntervalSince1970: 0))! == ("19700101T000000.000Z", "1970-01-01T00:00:00.000Z"))
        #expect(SnapshotID.make(for: Date(timeIntervalSince1970: -0.0005))! == ("19691231T235959.999Z", "1969-12-31T23:59:59.999Z"))
        #expect(SnapshotID.make(for: Date(timeIntervalSince1970: 1e12)) == nil)  // after year 9999
    }

    @Test func retentionKeepsTheNewestByID() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = SnapshotWriter(root: directory.snapshots, retain: 3)
        var ids: [String] = []
        for second in 0..<6 {
            ids.append(try writer.write(Samples.works, createdAt: try date("2026-01-01T00:00:0\(second)Z")).manifest.id)
            #expect(try writer.list().count == min(second + 1, 3))
        }
        #expect(try writer.list().map(\.id) == ids.suffix(3).reversed())
        #expect(entries(directory.snapshots) == ids.suffix(3))
        #expect(try writer.prune() == [])
        #expect(try writer.latest()?.manifest.id == ids.last)
        #expect(try writer.latest()?.directory == directory.snapshots.appendingPathComponent(ids.last!, isDirectory: true))

        // A writer with a smaller retention prunes what the larger one kept, oldest ones, newest first.
        let stricter = SnapshotWriter(root: directory.snapshots, retain: 1)
        #expect(try stricter.prune() == [ids[4], ids[3]])
        #expect(entries(directory.snapshots) == [ids[5]])
    }

    @Test func retentionWithNumberedIDsKeepsTheHighestNumbers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = SnapshotWriter(root: directory.snapshots, retain: 3)
        let instant = try date("2026-11-22T08:17:00.123Z")
        for _ in 0..<11 { _ = try writer.write(Samples.works, createdAt: instant) }
        #expect(try writer.list().map(\.id) == ["-11", "-10", "-9"].map { "20261122T081700.123Z" + $0 })
    }

    @Test func listIgnoresTemporaryAndInvalidDirectories() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = SnapshotWriter(root: directory.snapshots, retain: 10)
        #expect(try writer.list().isEmpty)  // no root yet
        #expect(try writer.latest() == nil)
        let good = try writer.write(Samples.works, createdAt: try date("2026-01-01T00:00:00Z"))

        let fileManager = FileManager.default
        func makeDirectory(_ name: String, manifest: String?) throws {
            let url = directory.snapshots.appendingPathComponent(name)
            try fileManager.createDirectory(at: url, withIntermediateDirectories: true)
            if let manifest { try Data(manifest.utf8).write(to: url.appendingPathComponent("manifest.json")) }
        }
        let copied = try text(good.directory.appendingPathComponent("manifest.json"))
        try makeDirectory("20270101T000000.000Z", manifest: nil)  // newer, but no manifest
        try makeDirectory("20270101T000000.001Z", manifest: "{ not json")
        try makeDirectory("20270101T000000.002Z", manifest: copied)  // manifest of another id
        try makeDirectory(".tmp-20270101T000000.003Z-1-abc", manifest: copied.replacingOccurrences(
            of: good.manifest.id, with: ".tmp-20270101T000000.003Z-1-abc"))
        try Data("x".utf8).write(to: directory.snapshots.appendingPathComponent("20270101T000000.004Z"))

        #expect(try writer.list().map(\.id) == [good.manifest.id])
        #expect(try writer.latest()?.manifest == good.manifest)
        // Pruning never touches what is not a snapshot.
        #expect(try SnapshotWriter(root: directory.snapshots, retain: 1).prune() == [])
        #expect(entries(directory.snapshots).count == 6)
    }

    @Test func verifyNoticesAChangedFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (snapshot, _) = try SnapshotWriter(root: directory.snapshots, retain: 5).write(Samples.works)
        let csv = snapshot.appendingPathComponent("works.csv")
        var content = try bytes(csv)
        content[content.count - 2] = UInt8(ascii: "9")
        try Data(content).write(to: csv)
        #expect {
            try SnapshotWriter.verify(directory: snapshot)
        } throws: { error in
            (error as? SnapshotError)?.code == .corrupt && "\(error)".contains("works.csv")
        }
    }
}
