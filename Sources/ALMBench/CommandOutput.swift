import Foundation

/// What `alm process`, `alm snapshot` and `alm replay` print, read back by the benchmark.
public enum CommandOutput {
    /// processed + rejected + late, from `alm process`'s summary line.
    public static func recordsAccountedFor(_ output: String) throws -> Int {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("processed ") }) else {
            throw BenchError("alm process printed no summary:\n\(output)")
        }
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard numbers.count >= 3 else { throw BenchError("unexpected summary: \(line)") }
        return numbers[0] + numbers[1] + numbers[2]
    }

    public static func snapshotLine(_ output: String) throws -> Substring {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("snapshot ") }) else {
            throw BenchError("no snapshot line in:\n\(output)")
        }
        return line
    }

    public static func snapshotWorks(_ output: String) throws -> Int {
        let line = try snapshotLine(output)
        guard let works = line.split(separator: " ").dropLast().last.flatMap({ Int($0) }) else { throw BenchError("unexpected: \(line)") }
        return works
    }

    public static func worksFile(_ output: String) throws -> Data {
        let line = try snapshotLine(output)
        let path = line.dropFirst("snapshot ".count).prefix { $0 != ":" }
        return try Data(contentsOf: URL(fileURLWithPath: String(path)).appendingPathComponent("works.jsonl"))
    }

    /// The `peak RSS N KiB` line `alm process` and `alm replay` end with, in bytes.
    public static func peakRSSBytes(_ output: String) throws -> Int64 {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("peak RSS ") }),
              let kib = line.split(separator: " ").dropFirst(2).first.flatMap({ Int64($0) }) else {
            throw BenchError("no peak RSS line in:\n\(output)")
        }
        return kib * 1024
    }
}
