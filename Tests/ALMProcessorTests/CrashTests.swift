import ALMProcessor
import ALMSnapshot
import ALMTestSupport
import ALMWorkload
import DevBroker
import Foundation
import Testing

/// `alm process` killed with SIGKILL again and again, each time restarted on the same state: the final
/// snapshot is byte for byte the one of an uninterrupted run. `make test` runs 20 kills over 1 M records;
/// `make soak` more of both (`ALM_CRASH_RECORDS`, `ALM_CRASH_KILLS`, with a release `ALM_BINARY`).
private let crashRecords = ProcessInfo.processInfo.environment["ALM_CRASH_RECORDS"].flatMap(Int.init) ?? 1_000_000
private let crashKills = ProcessInfo.processInfo.environment["ALM_CRASH_KILLS"].flatMap(Int.init) ?? 20

@Suite("alm process survives kill -9", .serialized, .timeLimit(.minutes(crashRecords > 1_000_000 ? 120 : 40)))
struct CrashTests {
    static let records = crashRecords
    static let kills = crashKills

    @Test("killed with SIGKILL at 20 random points of a 1 M-record run and restarted each time: the final snapshot is identical",
          .enabled(if: FileManager.default.isExecutableFile(atPath: almBinary.path), "needs .build/debug/alm (make test builds it)"))
    func killNineAndRestart() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                let generated = try await broker.alm(["generate", "--records", "\(Self.records)", "--works", "\(Self.records / 10)",
                                                      "--seed", "42"])
                #expect(generated.status == 0, "\(generated.output)")

                // The uninterrupted run, timed to spread the kills over a run of the same length.
                let started = ContinuousClock.now
                let reference = try runProcessor(broker: broker, in: dir, name: "reference", group: "reference")
                #expect(await reference.exitStatus() == 0)
                let runTime = ContinuousClock.now - started
                let expected = try snapshotFiles(dir.appendingPathComponent("reference-snapshots"))

                // Each attempt lives 1.5 s (start-up and group join) plus a random share of the run, so
                // that the kills fall all along it; the seed makes the points the same on every run.
                var rng = SplitMix64(seed: 2026)
                let share = max(1, Int(runTime.components.seconds) * 2_000 / Self.kills)
                var killsWhileRunning = 0
                var lives: [Int] = []
                for attempt in 0..<Self.kills {
                    let process = try runProcessor(broker: broker, in: dir, name: "crashed", group: "crash-\(attempt)")
                    let life = 1_500 + Int(rng.next() % UInt64(share))
                    lives.append(life)
                    try await Task.sleep(for: .milliseconds(life))
                    if process.isRunning {
                        kill(process.processIdentifier, SIGKILL)
                        killsWhileRunning += 1
                    }
                    _ = await process.exitStatus()
                }
                let last = try runProcessor(broker: broker, in: dir, name: "crashed", group: "crash-final")
                #expect(await last.exitStatus() == 0)
                #expect(killsWhileRunning >= Self.kills * 3 / 4,
                        "most kills hit a running processor (\(killsWhileRunning) of \(Self.kills); uninterrupted run \(runTime), lives \(lives) ms)")

                let crashed = try snapshotFiles(dir.appendingPathComponent("crashed-snapshots"))
                for name in [SnapshotWriter.jsonLinesFile, SnapshotWriter.csvFile] {
                    #expect(crashed[name] == expected[name], "\(name) identical to the uninterrupted run's")
                }
                let works = expected[SnapshotWriter.jsonLinesFile].map { $0.count { $0 == UInt8(ascii: "\n") } } ?? 0
                #expect(works > Self.records / 100, "the snapshot holds the run's works (\(works))")
            }
        }
    }

    private func runProcessor(broker: DevBroker, in dir: URL, name: String, group: String) throws -> Process {
        let process = broker.almProcess(["process", "--until-end", "--state-dir", dir.appendingPathComponent(name).path,
                                         "--snapshot-dir", dir.appendingPathComponent(name + "-snapshots").path], group: group)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    private func snapshotFiles(_ snapshots: URL) throws -> [String: Data] {
        let latest = try #require(try SnapshotWriter(root: snapshots, retain: 10).latest())
        return try Dictionary(uniqueKeysWithValues: [SnapshotWriter.jsonLinesFile, SnapshotWriter.csvFile].map {
            ($0, try Data(contentsOf: latest.directory.appendingPathComponent($0)))
        })
    }
}
