import Foundation

/// This process's memory as the kernel reports it in /proc/self/status.
public enum ProcessMemory {
    /// The peak resident set size since this program started (`VmHWM`), in bytes; nil where there is no
    /// /proc. A parent's `wait4` would not do: on Linux a child spawned from a large parent inherits the
    /// parent's peak until its exec.
    public static func peakResidentBytes() -> Int64? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return parseKilobytes(field: "VmHWM", in: status).map { $0 * 1024 }
    }

    static func parseKilobytes(field: String, in status: String) -> Int64? {
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int64($0) }
        }
        return nil
    }

    /// The line `alm process` and `alm replay` end with, read back by `alm bench`.
    public static func peakLine() -> String? {
        peakResidentBytes().map { "peak RSS \($0 / 1024) KiB" }
    }
}
