import ALMCore

/// How often a pull collector refreshes a work, by the work's age: young works gather attention fast,
/// old ones slowly (Lagotto's staleness tiers). Defaults: published within 30 days, daily; within a
/// year, weekly; older (or of unknown date), monthly. Each interval is spread by ±`jitter` with a
/// draw that is stable per work, so works imported together do not all fall due at the same moment.
public struct RefreshSchedule: Sendable, Equatable {
    public var youngDays: Double = 30
    public var youngIntervalSeconds: Double = 86_400
    public var recentDays: Double = 365
    public var recentIntervalSeconds: Double = 7 * 86_400
    public var olderIntervalSeconds: Double = 30 * 86_400
    /// Fraction of the interval, 0..<1.
    public var jitter: Double = 0.1

    public init() {}

    /// The interval for a work published at `published` (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`; a partial date
    /// counts from its first day), seen at `now` (seconds since the epoch).
    public func interval(published: String?, now: Double) -> Double {
        guard let published, let start = Self.secondsSinceEpoch(published) else { return olderIntervalSeconds }
        let ageDays = (now - start) / 86_400
        if ageDays <= youngDays { return youngIntervalSeconds }
        if ageDays <= recentDays { return recentIntervalSeconds }
        return olderIntervalSeconds
    }

    /// When the work falls due next after a fetch at `fetchedAt`.
    public func nextDue(doi: String, published: String?, fetchedAt: Double) -> Double {
        let base = interval(published: published, now: fetchedAt)
        var hasher = FNV1a()
        hasher.combine(doi)
        let unit = Double(hasher.value % 1_000_000) / 1_000_000  // stable in 0..<1
        return fetchedAt + base * (1 + jitter * (2 * unit - 1))
    }

    static func secondsSinceEpoch(_ date: String) -> Double? {
        let parts = date.split(separator: "-").map { Int($0) }
        guard (1...3).contains(parts.count), parts.allSatisfy({ $0 != nil }), let year = parts[0] else { return nil }
        let month = parts.count > 1 ? parts[1]! : 1, day = parts.count > 2 ? parts[2]! : 1
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        return Double(daysSinceEpoch(year: year, month: month, day: day) * 86_400)
    }
}

/// 64-bit FNV-1a: a stable hash (Swift's `Hasher` is seeded per process).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func combine(_ text: String) {
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
    }
}
