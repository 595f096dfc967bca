import Foundation

/// One workload size measured by `alm bench`: every figure comes from the same run, on the same topics.
public struct BenchMeasurement: Codable, Sendable, Equatable {
    public var records: Int
    public var works: Int
    /// Records the raw-consume ceiling read (every record of the raw topics).
    public var rawRecords: Int
    public var rawSeconds: Double
    /// When the ceiling received its first record (joining the group and the first fetch): the fixed
    /// part of `rawSeconds`, which the processor pays too.
    public var rawFirstRecordSeconds: Double?
    /// `alm process --until-end` on fresh state, until its snapshot is on disk.
    public var processSeconds: Double
    public var processPeakRSSBytes: Int64
    /// Rows of the state store (deciding records and watermarks) and its files on disk.
    public var stateRecords: Int
    public var stateBytes: Int64
    /// Works in the snapshot, and how long `alm snapshot` took to write it (process start included).
    public var snapshotWorks: Int
    public var snapshotSeconds: Double
    /// `alm replay` from the earliest offsets into fresh state, snapshot included.
    public var replaySeconds: Double
    public var replayPeakRSSBytes: Int64

    public init(records: Int, works: Int, rawRecords: Int, rawSeconds: Double, processSeconds: Double,
                processPeakRSSBytes: Int64, stateRecords: Int, stateBytes: Int64, snapshotWorks: Int,
                snapshotSeconds: Double, replaySeconds: Double, replayPeakRSSBytes: Int64,
                rawFirstRecordSeconds: Double? = nil) {
        self.records = records
        self.works = works
        self.rawRecords = rawRecords
        self.rawSeconds = rawSeconds
        self.rawFirstRecordSeconds = rawFirstRecordSeconds
        self.processSeconds = processSeconds
        self.processPeakRSSBytes = processPeakRSSBytes
        self.stateRecords = stateRecords
        self.stateBytes = stateBytes
        self.snapshotWorks = snapshotWorks
        self.snapshotSeconds = snapshotSeconds
        self.replaySeconds = replaySeconds
        self.replayPeakRSSBytes = replayPeakRSSBytes
    }

    public var rawRate: Double { Double(rawRecords) / rawSeconds }
    /// The ceiling's rate once records flow (after its first record).
    public var rawSteadyRate: Double? {
        rawFirstRecordSeconds.flatMap { first in rawSeconds > first ? Double(rawRecords) / (rawSeconds - first) : nil }
    }
    public var processRate: Double { Double(records) / processSeconds }
    /// The processor's rate as a share of the ceiling measured in the same run.
    public var processToRawRatio: Double { processRate / rawRate }
    public var replayToLiveRatio: Double { replaySeconds / processSeconds }
    public var stateBytesPerRecord: Double { stateRecords == 0 ? 0 : Double(stateBytes) / Double(stateRecords) }
}

/// The targets of the benchmark issue, each judged against a measurement.
public struct BenchTarget: Sendable, Equatable {
    public var name: String
    public var measured: String
    public var met: Bool

    public static func evaluate(_ m: BenchMeasurement) -> [BenchTarget] {
        let mib = 1024.0 * 1024.0
        return [
            BenchTarget(name: "processor ≥ 80 % of the raw consume rate",
                        measured: String(format: "%.2f×", m.processToRawRatio), met: m.processToRawRatio >= 0.8),
            BenchTarget(name: "peak RSS ≤ 512 MiB",
                        measured: String(format: "%.0f MiB", Double(m.processPeakRSSBytes) / mib),
                        met: Double(m.processPeakRSSBytes) <= 512 * mib),
            BenchTarget(name: "state ≤ 200 bytes per stored record",
                        measured: String(format: "%.0f B", m.stateBytesPerRecord), met: m.stateBytesPerRecord <= 200),
            BenchTarget(name: "snapshot written in ≤ 2 s",
                        measured: String(format: "%.2f s for %d works", m.snapshotSeconds, m.snapshotWorks),
                        met: m.snapshotSeconds <= 2),
            BenchTarget(name: "replay ≤ 1.25× the live batch time",
                        measured: String(format: "%.2f×", m.replayToLiveRatio), met: m.replayToLiveRatio <= 1.25),
        ]
    }
}

public struct BenchReport: Codable, Sendable {
    public var date: String
    public var machine: String
    public var command: String
    public var measurements: [BenchMeasurement]

    public init(date: String, machine: String, command: String, measurements: [BenchMeasurement]) {
        self.date = date
        self.machine = machine
        self.command = command
        self.measurements = measurements
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The human table: one row per size, then how cost grows between sizes, then the targets judged
    /// at 1 M records (or the largest size).
    public func table() -> String {
        var rows = [["records", "works", "raw rec/s", "process rec/s", "ratio", "peak RSS", "state B/rec", "snapshot s",
                     "replay/live"]]
        for m in measurements {
            rows.append([
                String(m.records), String(m.works), String(format: "%.0f", m.rawRate), String(format: "%.0f", m.processRate),
                String(format: "%.2f", m.processToRawRatio), String(format: "%.0f MiB", Double(m.processPeakRSSBytes) / 1_048_576),
                String(format: "%.0f", m.stateBytesPerRecord), String(format: "%.2f", m.snapshotSeconds),
                String(format: "%.2f", m.replayToLiveRatio),
            ])
        }
        var text = Self.render(rows)
        for m in measurements {
            guard let first = m.rawFirstRecordSeconds, let steady = m.rawSteadyRate else { continue }
            text += String(format: "\n%d records: the ceiling's first record came after %.2f s (group join, first fetch), then %.0f records/s",
                           m.records, first, steady)
        }
        for (smaller, larger) in zip(measurements, measurements.dropFirst()) {
            text += String(format: "\n%d → %d records (%.1f× records, %.1f× works): process time %.2f×, peak RSS %.2f×",
                           smaller.records, larger.records, Double(larger.records) / Double(smaller.records),
                           Double(larger.works) / Double(smaller.works), larger.processSeconds / smaller.processSeconds,
                           Double(larger.processPeakRSSBytes) / Double(smaller.processPeakRSSBytes))
        }
        // The targets are stated for 1 M records; without that size, the largest stands in.
        if let judged = measurements.first(where: { $0.records == 1_000_000 }) ?? measurements.max(by: { $0.records < $1.records }) {
            text += "\n\ntargets at \(judged.records) records, \(judged.works) works:\n"
            text += Self.render([["target", "measured", "met"]]
                + BenchTarget.evaluate(judged).map { [$0.name, $0.measured, $0.met ? "yes" : "no"] })
        }
        return text
    }

    static func render(_ rows: [[String]]) -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == 0 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
