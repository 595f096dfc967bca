import ALMBench
import Foundation
import Testing

@Suite("alm bench: ratios, targets and what the commands print")
struct BenchReportTests {
    static func measurement(records: Int = 1_000_000, rawSeconds: Double = 10, processSeconds: Double = 12.5,
                            rssMiB: Int64 = 400, stateRecords: Int = 300_000, stateBytes: Int64 = 54_000_000,
                            snapshotSeconds: Double = 1.5, replaySeconds: Double = 15) -> BenchMeasurement {
        BenchMeasurement(records: records, works: records / 10, rawRecords: records, rawSeconds: rawSeconds,
                         processSeconds: processSeconds, processPeakRSSBytes: rssMiB * 1_048_576,
                         stateRecords: stateRecords, stateBytes: stateBytes, snapshotWorks: records / 10,
                         snapshotSeconds: snapshotSeconds, replaySeconds: replaySeconds, replayPeakRSSBytes: rssMiB * 1_048_576)
    }

    @Test("rates and ratios come from the same run's figures")
    func ratios() {
        let m = Self.measurement()
        #expect(m.rawRate == 100_000)
        #expect(m.processRate == 80_000)
        #expect(m.processToRawRatio == 0.8)
        #expect(m.replayToLiveRatio == 1.2)
        #expect(m.stateBytesPerRecord == 180)
    }

    @Test("the ceiling's steady rate leaves out the time before its first record, and the table says both")
    func steadyRate() {
        var m = Self.measurement(rawSeconds: 5)
        #expect(m.rawSteadyRate == nil, "no first-record time, no steady rate")
        m.rawFirstRecordSeconds = 3
        #expect(m.rawSteadyRate == 500_000)
        #expect(m.rawRate == 200_000)
        let table = BenchReport(date: "", machine: "", command: "", measurements: [m]).table()
        #expect(table.contains("1000000 records: the ceiling's first record came after 3.00 s (group join, first fetch), then 500000 records/s"))
    }

    @Test("each target is met exactly up to its bound and missed beyond it")
    func targets() {
        #expect(BenchTarget.evaluate(Self.measurement()).allSatisfy { $0.met })
        let missed = BenchTarget.evaluate(Self.measurement(processSeconds: 12.6, rssMiB: 513, stateBytes: 60_300_000,
                                                           snapshotSeconds: 2.01, replaySeconds: 15.8))
        #expect(missed.map(\.met) == [false, false, false, false, false])
        #expect(missed[0].measured == "0.79×")
        #expect(missed[1].measured == "513 MiB")
    }

    @Test("the table has a row per size, the growth between sizes, and the targets judged at 1 M records")
    func table() throws {
        let small = Self.measurement(records: 100_000, rawSeconds: 1, processSeconds: 1.1, rssMiB: 100)
        let large = Self.measurement(records: 1_000_000, rawSeconds: 10, processSeconds: 22, rssMiB: 300)
        let huge = Self.measurement(records: 5_000_000, rawSeconds: 20, processSeconds: 200, rssMiB: 2000)
        let report = BenchReport(date: "2026-11-30T00:00:00Z", machine: "test", command: "alm bench", measurements: [small, large, huge])
        let lines = report.table().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].hasPrefix("records"))
        #expect(lines[1].hasPrefix("100000 ") && lines[1].contains("90909"))
        #expect(lines[2].hasPrefix("1000000") && lines[2].contains("0.45"))
        #expect(lines[4] == "100000 → 1000000 records (10.0× records, 10.0× works): process time 20.00×, peak RSS 3.00×")
        #expect(lines.contains("targets at 1000000 records, 100000 works:"), "the targets are judged at 1 M records")
        #expect(lines.contains { $0.hasPrefix("processor ≥ 80 % of the raw consume rate") && $0.hasSuffix("0.45×   no") })
        let decoded = try JSONDecoder().decode(BenchReport.self, from: report.json())
        #expect(decoded.measurements == [small, large, huge])
    }

    @Test("the summary lines of alm process and alm snapshot are read back")
    func commandOutput() throws {
        let process = """
            processed 49877 records, rejected 53 invalid and 70 late to alm.dlq, published 6428 aggregates, partitions 12
            state run/demo/state: 17103 records, 1881 works, 9928 KiB in 12 partitions
            snapshot run/demo/snapshots/20261130T025929.101Z: 1881 works
            peak RSS 81234 KiB
            """
        #expect(try CommandOutput.recordsAccountedFor(process) == 50_000)
        #expect(try CommandOutput.snapshotWorks(process) == 1881)
        #expect(try CommandOutput.peakRSSBytes(process) == 81234 * 1024)
        #expect(throws: BenchError.self) { try CommandOutput.peakRSSBytes("processed 1 records") }
        #expect(throws: BenchError.self) { try CommandOutput.recordsAccountedFor("Error: no broker") }
    }

    @Test("a child's time, output and exit status; a failure says how it ended")
    func childRun() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("alm-bench-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let run = try await ChildRun.run(["/bin/sh", "-c", "sleep 0.3; echo done; echo oops >&2; exit 3"], log: log)
        #expect(run.status == 3)
        #expect(run.output == "done\noops\n")
        #expect(run.seconds >= 0.3)
        #expect(throws: BenchError.self) { try run.checked("sh") }
        let killed = try await ChildRun.run(["/bin/sh", "-c", "kill -9 $$"], log: log)
        #expect(killed.status == 128 + 9)
    }
}
