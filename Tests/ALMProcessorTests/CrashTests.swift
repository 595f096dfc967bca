import ALMProcessor
import ALMSnapshot
import ALMTestSupport
import ALMWorkload
import DevBroker
import Foundation
import Kafka
import Testing

@Suite("alm process survives kill -9", .serialized, .timeLimit(.minutes(10)))
struct CrashTests {
    @Test("killed with SIGKILL at random points of a 200 000-record run and restarted: the final snapshot is identical",
          .enabled(if: FileManager.default.isExecutableFile(atPath: almBinary.path), "needs .build/debug/alm (make test builds it)"))
    func killNineAndRestart() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                _ = try await broker.produce(WorkloadSpec(records: 200_000, works: 20_000, seed: 42))

                // The uninterrupted run.
                let reference = dir.appendingPathComponent("reference")
                _ = try await Processor(settings: broker.processorSettings(state: reference, group: "reference"), logger: testLogger).run()
                let expected = try snapshotFiles(state: reference, snapshots: dir.appendingPathComponent("reference-snapshots"))

                // The same input, processed by the alm binary that is killed again and again.
                let state = dir.appendingPathComponent("crashed")
                let snapshots = dir.appendingPathComponent("crashed-snapshots")
                var rng = SplitMix64(seed: 2026)  // the same kill points on every run
                var killsWhileRunning = 0
                for attempt in 0..<8 {
                    let process = try runProcessor(broker: broker, state: state, snapshots: snapshots, group: "crash-\(attempt)")
                    let delay = 1_500 + Int(rng.next() % 4_500)
                    try await Task.sleep(for: .milliseconds(delay))
                    if process.isRunning {
                        kill(process.processIdentifier, SIGKILL)
                        killsWhileRunning += 1
                    }
                    _ = await process.exitStatus()
                }
                let last = try runProcessor(broker: broker, state: state, snapshots: snapshots, group: "crash-final")
                #expect(await last.exitStatus() == 0)
                #expect(killsWhileRunning >= 5, "most kills hit a running processor (\(killsWhileRunning))")

                let latest = try #require(try SnapshotWriter(root: snapshots, retain: 10).latest())
                for name in [SnapshotWriter.jsonLinesFile, SnapshotWriter.csvFile] {
                    let crashed = try Data(contentsOf: latest.directory.appendingPathComponent(name))
                    #expect(crashed == expected[name], "\(name) identical to the uninterrupted run's")
                }
            }
        }
    }

    private func runProcessor(broker: DevBroker, state: URL, snapshots: URL, group: String) throws -> Process {
        let process = broker.almProcess(["process", "--until-end", "--state-dir", state.path, "--snapshot-dir", snapshots.path], group: group)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    private func snapshotFiles(state: URL, snapshots: URL) throws -> [String: Data] {
        let snapshot = try StateSnapshot.collect(stateDirectory: state)
        let (directory, _) = try SnapshotWriter(root: snapshots, retain: 1)
            .write(snapshot.works, inputOffsets: snapshot.inputOffsets, recordCounts: snapshot.counters)
        return try Dictionary(uniqueKeysWithValues: [SnapshotWriter.jsonLinesFile, SnapshotWriter.csvFile].map {
            ($0, try Data(contentsOf: directory.appendingPathComponent($0)))
        })
    }
}

