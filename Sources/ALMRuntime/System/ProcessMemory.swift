import Foundation
#if canImport(Glibc)
import Glibc
#endif

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

    /// Bounds glibc's malloc arenas to one per core plus one, unless `MALLOC_ARENA_MAX` says otherwise.
    /// glibc gives threads up to 8 arenas per core, and memory freed into one arena serves only the threads
    /// of that arena: with the processor's partition lanes on libdispatch's workers, peak RSS over 1 M
    /// records was 564 MiB with the default and 452 MiB with 3 arenas on 2 cores, at the same speed (2 arenas
    /// were 10 % slower). Call it early: glibc fixes the limit once the process has more than 8 arenas.
    public static func limitMallocArenas() {
        #if canImport(Glibc)
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil,
              // <malloc.h> is not in Swift's Glibc module; mallopt is looked up instead.
              let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }  // RTLD_DEFAULT
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mArenaMax: Int32 = -8  // M_ARENA_MAX
        _ = unsafeBitCast(symbol, to: Mallopt.self)(mArenaMax, Int32(ProcessInfo.processInfo.activeProcessorCount + 1))
        #endif
    }

    /// The line `alm process` and `alm replay` end with, read back by `alm bench`.
    public static func peakLine() -> String? {
        peakResidentBytes().map { "peak RSS \($0 / 1024) KiB" }
    }
}
