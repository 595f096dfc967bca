import ALMCore
import ALMSnapshot
import ALMWorkload
import DevBroker
import Foundation
import Kafka
import Testing

@Suite("alm process, replay and snapshot from the command line", .serialized)
struct CommandLineTests {
    @Test("alm replay equals alm process byte for byte; alm replay --as-of leaves out what came later",
          .enabled(if: FileManager.default.isExecutableFile(atPath: almBinary.path), "needs .build/debug/alm (make test builds it)"))
    func replayAsOf() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                // January's records, then May's: Kafka timestamps set by the producer.
                let january = try Timestamp(parsing: "2026-01-10T00:00:00Z").microsecondsSinceEpoch / 1000
                let may = try Timestamp(parsing: "2026-05-10T00:00:00Z").microsecondsSinceEpoch / 1000
                let early = Workload(WorkloadSpec(records: 6_000, works: 400, seed: 21)).all()
                let later = Workload(WorkloadSpec(records: 2_500, works: 400, seed: 22)).all()
                try await broker.produce(early.map { ProducerRecord(topic: $0.topic, key: $0.key, value: $0.value, timestampMs: january) })
                try await broker.produce(later.map { ProducerRecord(topic: $0.topic, key: $0.key, value: $0.value, timestampMs: may) })

                let live = dir.appendingPathComponent("live")
                let process = try broker.alm(["process", "--until-end", "--state-dir", dir.appendingPathComponent("state").path,
                                              "--snapshot-dir", live.path])
                #expect(process.status == 0)
                #expect(process.output.contains("processed "), "\(process.output)")

                let replayed = dir.appendingPathComponent("replayed")
                let replay = try broker.alm(["replay", "--snapshot-dir", replayed.path,
                                             "--state-dir", dir.appendingPathComponent("replay-state").path])
                #expect(replay.status == 0)
                #expect(replay.output.contains("0 after --as-of"), "\(replay.output)")
                let liveFiles = try latestFiles(live), replayFiles = try latestFiles(replayed)
                #expect(liveFiles.jsonl.count > 1000)
                #expect(replayFiles.jsonl == liveFiles.jsonl, "works.jsonl byte for byte")
                #expect(replayFiles.csv == liveFiles.csv, "works.csv byte for byte")

                let asOfDirectory = dir.appendingPathComponent("as-of")
                let asOfState = dir.appendingPathComponent("as-of-state")
                let asOf = try broker.alm(["replay", "--as-of", "2026-03-01T00:00:00Z", "--snapshot-dir", asOfDirectory.path,
                                           "--state-dir", asOfState.path])
                #expect(asOf.status == 0)
                #expect(asOf.output.contains("\(later.count) after --as-of"), "\(asOf.output)")
                let files = try latestFiles(asOfDirectory)
                #expect(files.manifest.asOf == "2026-03-01T00:00:00Z")
                let expected = try await broker.expected(asOfMilliseconds: january).text
                #expect(String(decoding: files.jsonl, as: UTF8.self) == expected + "\n", "the numbers of January's records alone")
                #expect(files.jsonl != liveFiles.jsonl)
                #expect(!FileManager.default.fileExists(atPath: asOfState.path), "the replay's state is removed without --keep-state")

                let bad = try broker.alm(["replay", "--as-of", "last tuesday", "--snapshot-dir", asOfDirectory.path])
                #expect(bad.status != 0)
                #expect(try SnapshotWriter(root: asOfDirectory, retain: 10).list().count == 1, "a refused replay writes nothing")
            }
        }
    }

    private func latestFiles(_ root: URL) throws -> (jsonl: Data, csv: Data, manifest: SnapshotManifest) {
        let (directory, manifest) = try #require(try SnapshotWriter(root: root, retain: 10).latest())
        return (try Data(contentsOf: directory.appendingPathComponent(SnapshotWriter.jsonLinesFile)),
                try Data(contentsOf: directory.appendingPathComponent(SnapshotWriter.csvFile)), manifest)
    }
}
