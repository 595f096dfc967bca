import ALMCore
import ALMSnapshot
import ALMTestSupport
import ALMWorkload
import DevBroker
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import Testing

@Suite("alm process, replay and snapshot from the command line", .serialized, .timeLimit(.minutes(5)))
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
                let process = try await broker.alm(["process", "--until-end", "--state-dir", dir.appendingPathComponent("state").path,
                                              "--snapshot-dir", live.path])
                #expect(process.status == 0)
                #expect(process.output.contains("processed "), "\(process.output)")

                let replayed = dir.appendingPathComponent("replayed")
                let replay = try await broker.alm(["replay", "--snapshot-dir", replayed.path,
                                             "--state-dir", dir.appendingPathComponent("replay-state").path])
                #expect(replay.status == 0)
                #expect(replay.output.contains("0 after --as-of"), "\(replay.output)")
                let liveFiles = try latestFiles(live), replayFiles = try latestFiles(replayed)
                #expect(liveFiles.jsonl.count > 1000)
                #expect(replayFiles.jsonl == liveFiles.jsonl, "works.jsonl byte for byte")
                #expect(replayFiles.csv == liveFiles.csv, "works.csv byte for byte")

                let asOfDirectory = dir.appendingPathComponent("as-of")
                let asOfState = dir.appendingPathComponent("as-of-state")
                let asOf = try await broker.alm(["replay", "--as-of", "2026-03-01T00:00:00Z", "--snapshot-dir", asOfDirectory.path,
                                           "--state-dir", asOfState.path])
                #expect(asOf.status == 0)
                #expect(asOf.output.contains("\(later.count) after --as-of"), "\(asOf.output)")
                let files = try latestFiles(asOfDirectory)
                #expect(files.manifest.asOf == "2026-03-01T00:00:00Z")
                let expected = try await broker.expected(asOfMilliseconds: january).text
                #expect(String(decoding: files.jsonl, as: UTF8.self) == expected + "\n", "the numbers of January's records alone")
                #expect(files.jsonl != liveFiles.jsonl)
                #expect(!FileManager.default.fileExists(atPath: asOfState.path), "the replay's state is removed without --keep-state")

                let bad = try await broker.alm(["replay", "--as-of", "last tuesday", "--snapshot-dir", asOfDirectory.path])
                #expect(bad.status != 0)
                #expect(try SnapshotWriter(root: asOfDirectory, retain: 10).list().count == 1, "a refused replay writes nothing")
            }
        }
    }

    @Test("alm works import publishes normalised works to alm.works keyed by DOI and reports bad rows",
          .enabled(if: FileManager.default.isExecutableFile(atPath: almBinary.path), "needs .build/debug/alm (make test builds it)"))
    func worksImport() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                let file = dir.appendingPathComponent("works.csv")
                try Data(("doi,pmid,title,published\n"
                    + "https://doi.org/10.1371/JOURNAL.PONE.0008776,20098740,Genes mirror geography,2010-01-28\n"
                    + "10.5555/alm.1,,First,2026-11-01\n"
                    + "not a doi,1,,\n"
                    + "10.5555/ALM.1,,First (revised),2026-11-01\n").utf8).write(to: file)
                let run = try await broker.alm(["works", "import", file.path])
                #expect(run.status == 1, "a rejected row makes the exit status 1")
                #expect(run.output.contains("2 works published to alm.works (1 repeated DOIs: the last row of each counts), 1 rows rejected"), "\(run.output)")

                let records = try await broker.readAll(topic: "alm.works", partitions: 12)
                let byKey = Dictionary(uniqueKeysWithValues: records.map { ($0.keyString!, String(decoding: $0.value, as: UTF8.self)) })
                #expect(byKey == [
                    "10.1371/journal.pone.0008776": #"{"doi":"10.1371/journal.pone.0008776","pmid":"20098740","title":"Genes mirror geography","published":"2010-01-28"}"#,
                    "10.5555/alm.1": #"{"doi":"10.5555/alm.1","title":"First (revised)","published":"2026-11-01"}"#,
                ])
                // Keyed like the raw topics: the same partition as the work's raw events.
                let partition = records.first { $0.keyString == "10.5555/alm.1" }?.partition
                let raw = Workload(WorkloadSpec(records: 50, works: 1, seed: 1)).all().first { !$0.isMalformed }!
                try await broker.produce([ProducerRecord(topic: raw.topic, key: raw.key, value: raw.value)])
                let rawRecords = try await broker.readAll(topic: raw.topic, partitions: 12)
                #expect(rawRecords.first?.partition == partition)
            }
        }
    }

    @Test("SIGTERM: alm process finishes its batch, writes its state and exits 0; resumed, the numbers are exact; --health-port answers",
          .enabled(if: FileManager.default.isExecutableFile(atPath: almBinary.path), "needs .build/debug/alm (make test builds it)"))
    func gracefulStop() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                let workload = Workload(WorkloadSpec(records: 30_000, works: 800, seed: 31)).all()
                try await broker.produce(workload.map { ProducerRecord(topic: $0.topic, key: $0.key, value: $0.value) })
                let state = dir.appendingPathComponent("state").path, snapshots = dir.appendingPathComponent("snapshots").path
                let log = dir.appendingPathComponent("process.log")
                FileManager.default.createFile(atPath: log.path, contents: nil)
                let process = broker.almProcess(["process", "--state-dir", state, "--snapshot-dir", snapshots, "--health-port", "0"])
                process.standardOutput = try FileHandle(forWritingTo: log)
                try process.run()
                defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

                var port: String?
                for _ in 0..<600 where port == nil {
                    try await Task.sleep(for: .milliseconds(50))
                    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                    port = text.range(of: "health on http://0.0.0.0:").map { String(text[$0.upperBound...].prefix { $0.isNumber }) }
                }
                let health = "http://127.0.0.1:\(try #require(port, "no health port printed"))"
                #expect(try await status(of: health + "/healthz") == 200)
                var ready = 0
                for _ in 0..<300 where ready != 200 {
                    ready = try await status(of: health + "/readyz")
                    if ready != 200 { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(ready == 200, "ready once the group gave the processor its partitions")

                let stopping = ContinuousClock.now
                process.terminate()
                let exit = await process.exitStatus()
                #expect(exit == 0, "SIGTERM is a clean stop")
                #expect(ContinuousClock.now - stopping < .seconds(30))
                let output = try String(contentsOf: log, encoding: .utf8)
                #expect(output.contains("processed "), "\(output)")

                // Whatever the stop left, a resumed run ends with the exact numbers.
                let resumed = try await broker.alm(["process", "--until-end", "--state-dir", state, "--snapshot-dir", snapshots])
                #expect(resumed.status == 0)
                let files = try latestFiles(URL(fileURLWithPath: snapshots))
                #expect(String(decoding: files.jsonl, as: UTF8.self) == (try await broker.expectedText()) + "\n")
            }
        }
    }

    private func status(of url: String) async throws -> Int {
        do {
            let (_, response) = try await URLSession.shared.data(from: URL(string: url)!)
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        } catch {
            return 0
        }
    }

    private func latestFiles(_ root: URL) throws -> (jsonl: Data, csv: Data, manifest: SnapshotManifest) {
        let (directory, manifest) = try #require(try SnapshotWriter(root: root, retain: 10).latest())
        return (try Data(contentsOf: directory.appendingPathComponent(SnapshotWriter.jsonLinesFile)),
                try Data(contentsOf: directory.appendingPathComponent(SnapshotWriter.csvFile)), manifest)
    }
}
