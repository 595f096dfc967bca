import ALMCore
import Foundation

/// `manifest.json` of a snapshot: what the numbers reflect and a digest of each file.
/// JSON keys are snake_case (`schema_version`, `created_at`, ...); maps keep their keys as given.
public struct SnapshotManifest: Codable, Sendable, Equatable {
    /// The version of this manifest and of the `works.jsonl` lines (shared/spec/snapshot-record.schema.json).
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// The directory name: the UTC creation time to the millisecond (`20261122T081700.123Z`), with `-2`,
    /// `-3`, ... when another snapshot of the same root already has that time. Sortable: see `SnapshotID`.
    public var id: String
    /// RFC 3339 UTC with milliseconds, the instant the id was made from.
    public var createdAt: String
    /// For an "as of" snapshot (a replay up to a timestamp): that timestamp as given.
    public var asOf: String?
    /// The number of works (lines of works.jsonl, rows of works.csv).
    public var works: Int
    /// topic → partition (decimal string) → next offset: the input the numbers reflect.
    public var inputOffsets: [String: [String: Int64]]
    /// The caller's counters (`records_processed`, `records_rejected`, ...) and `works`.
    public var recordCounts: [String: Int64]
    /// File name (`works.jsonl`, `works.csv`) → digest.
    public var files: [String: FileDigest]

    public init(schemaVersion: Int = SnapshotManifest.currentSchemaVersion, id: String, createdAt: String,
                asOf: String? = nil, works: Int, inputOffsets: [String: [String: Int64]],
                recordCounts: [String: Int64], files: [String: FileDigest]) {
        self.schemaVersion = schemaVersion
        self.id = id
        self.createdAt = createdAt
        self.asOf = asOf
        self.works = works
        self.inputOffsets = inputOffsets
        self.recordCounts = recordCounts
        self.files = files
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case id
        case createdAt = "created_at"
        case asOf = "as_of"
        case works
        case inputOffsets = "input_offsets"
        case recordCounts = "record_counts"
        case files
    }

    /// The bytes of manifest.json: pretty-printed, sorted keys, unescaped slashes, trailing newline.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var bytes = [UInt8](try encoder.encode(self))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}

/// Size and SHA-256 of one file of a snapshot.
public struct FileDigest: Codable, Sendable, Equatable {
    /// Lower-case hex.
    public var sha256: String
    public var bytes: Int64
    /// Number of "\n"-terminated lines (works.csv counts its header).
    public var lines: Int

    public init(sha256: String, bytes: Int64, lines: Int) {
        self.sha256 = sha256
        self.bytes = bytes
        self.lines = lines
    }
}

/// Snapshot ids: `YYYYMMDDTHHMMSS.mmmZ`, optionally followed by `-N` (N ≥ 2) when ids collide.
public enum SnapshotID {
    /// The id and the RFC 3339 creation time for `date`, truncated to the millisecond; nil outside
    /// years 0000–9999.
    public static func make(for date: Date) -> (id: String, createdAt: String)? {
        // To the nearest microsecond first (a Date is a Double: 08:17:00.123 may be 08:17:00.1229999),
        // then down to the millisecond.
        let microseconds = (date.timeIntervalSince1970 * 1_000_000).rounded()
        guard microseconds.isFinite, abs(microseconds) < 1e18 else { return nil }
        let (milliseconds, _) = Int64(microseconds).floorDivided(by: 1000)
        guard let timestamp = Timestamp(microsecondsSinceEpoch: milliseconds * 1000) else { return nil }
        // Timestamp leaves out a zero fraction; ids and creation times always carry milliseconds.
        var createdAt = timestamp.text
        if !createdAt.contains(".") { createdAt = String(createdAt.dropLast()) + ".000Z" }
        let id = String(createdAt.filter { $0 != "-" && $0 != ":" })
        return (id, createdAt)
    }

    /// `base` for the first snapshot of an instant, then `base-2`, `base-3`, ...
    static func candidate(_ base: String, _ attempt: Int) -> String {
        attempt <= 1 ? base : "\(base)-\(attempt)"
    }

    /// 1 for `base`, N for `base-N`, nil for any other name.
    static func number(_ name: String, ofBase base: String) -> Int? {
        guard name.hasPrefix(base) else { return nil }
        let rest = name.utf8.dropFirst(base.utf8.count)
        if rest.isEmpty { return 1 }
        guard rest.first == UInt8(ascii: "-"), let number = Int(Substring(rest.dropFirst())), number >= 2 else { return nil }
        return number
    }

    /// Order of ids, oldest first: by the time part (byte order), then by the collision number (none = 1),
    /// so `…Z-10` comes after `…Z-9`.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        let (baseA, numberA) = split(a)
        let (baseB, numberB) = split(b)
        if baseA != baseB { return utf8Precedes(baseA, baseB) }
        if numberA != numberB { return numberA < numberB }
        return utf8Precedes(a, b)
    }

    private static func split(_ id: String) -> (Substring, Int) {
        guard let dash = id.firstIndex(of: "-"),
              let number = Int(id[id.index(after: dash)...]), number >= 1
        else { return (id[...], 1) }
        return (id[..<dash], number)
    }

    private static func utf8Precedes(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}

extension Int64 {
    /// Quotient rounded towards minus infinity, and the (non-negative) remainder.
    fileprivate func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
