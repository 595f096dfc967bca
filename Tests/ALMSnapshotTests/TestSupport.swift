import ALMAggregation
import ALMCore
import Foundation
@testable import ALMSnapshot

/// Finds `shared/` (design notes and spec), which sits beside the package checkout: `<package>/../shared`.
/// The test sources may be reached through a symlink (a scratch package that links
/// `Tests/ALMSnapshotTests`), so the path of this file is resolved before walking up from it.
/// `ALM_SHARED` overrides the search.
enum SharedFiles {
    static let directory: URL? = locate()

    static func snapshotRecordSchema() throws -> [UInt8] {
        guard let directory else { throw MissingSharedDirectory() }
        return Array(try Data(contentsOf: directory.appendingPathComponent("spec/snapshot-record.schema.json")))
    }

    private static func locate() -> URL? {
        if let override = ProcessInfo.processInfo.environment["ALM_SHARED"] {
            return URL(fileURLWithPath: override, isDirectory: true)
        }
        let thisFile = URL(fileURLWithPath: #filePath)
        for start in [resolvingSymlinks(thisFile), thisFile] {
            var directory = start.deletingLastPathComponent()
            while directory.path != "/" && !directory.path.isEmpty {
                let candidate = directory.appendingPathComponent("shared", isDirectory: true)
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("spec").path) {
                    return candidate
                }
                directory = directory.deletingLastPathComponent()
            }
        }
        return nil
    }

    /// Resolves every symlink on the path (Foundation's `resolvingSymlinksInPath` leaves some
    /// intermediate links alone on Linux).
    private static func resolvingSymlinks(_ url: URL) -> URL {
        guard let resolved = realpath(url.path, nil) else { return url }
        defer { free(resolved) }
        return URL(fileURLWithPath: String(cString: resolved))
    }

    struct MissingSharedDirectory: Error, CustomStringConvertible {
        var description: String { "shared/ (with spec/) not found beside the package; set ALM_SHARED" }
    }
}

/// A fresh directory under the system's temporary directory, removed (permissions restored first) by
/// `remove()`.
struct TemporaryDirectory {
    let url: URL

    init(_ label: String = #function) throws {
        let name = "almsnapshot-tests-" + label.filter { $0.isLetter || $0.isNumber } + "-" + UUID().uuidString.prefix(8)
        url = FileManager.default.temporaryDirectory.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var snapshots: URL { url.appendingPathComponent("snapshots", isDirectory: true) }

    func remove() {
        chmod(url.path, 0o755)
        chmod(snapshots.path, 0o755)
        try? FileManager.default.removeItem(at: url)
    }
}

/// Entry names of a directory, sorted; none if it does not exist.
func entries(_ directory: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
}

func bytes(_ url: URL) throws -> [UInt8] {
    Array(try Data(contentsOf: url))
}

func text(_ url: URL) throws -> String {
    String(decoding: try bytes(url), as: UTF8.self)
}

/// The instant of an RFC 3339 text as a Date.
func date(_ rfc3339: String) throws -> Date {
    Date(timeIntervalSince1970: Double(try Timestamp(parsing: rfc3339).microsecondsSinceEpoch) / 1_000_000)
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small generator whose sequence is fixed by its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

enum Samples {
    /// Five works in an order other than the snapshot's. Their byte order of id is
    /// `Zeta` < `abc` < `abd` < `x,y"z` < `élan` (upper case before lower, non-ASCII last).
    static let works: [WorkAggregate] = [
        WorkAggregate(
            work: "10.1234/élan",
            sources: ["counter": ["total_item_requests": 120, "unique_item_requests": 80]],
            categories: [.viewed: 120],
            byMonth: ["2026-02": [.viewed: 120]],
            firstSeen: try! Timestamp(parsing: "2026-02-01T00:00:00Z"),
            lastSeen: try! Timestamp(parsing: "2026-02-28T23:59:59.5Z")),
        WorkAggregate(
            work: "10.1234/abc",
            sources: ["wikipedia": ["mentions": 2], "crossref": ["cites": 31]],
            categories: [.cited: 31, .discussed: 2],
            byMonth: ["2026-03": [.discussed: 2], "2026-01": [.cited: 31]],
            firstSeen: try! Timestamp(parsing: "2026-01-05T10:00:00Z"),
            lastSeen: try! Timestamp(parsing: "2026-03-02T11:04:09+01:00")),
        WorkAggregate(
            work: "10.1234/x,y\"z",
            sources: ["reddit": ["posts": 3, "comments": 5]],
            categories: [.discussed: 8]),
        WorkAggregate(work: "10.1234/Zeta"),
        WorkAggregate(
            work: "10.1234/abd",
            sources: ["crossref": ["cites": 1], "my,src": ["a\"b": 7]],
            categories: [.cited: 1]),
    ]

    /// `works` in snapshot order.
    static let sortedIDs = ["10.1234/Zeta", "10.1234/abc", "10.1234/abd", "10.1234/x,y\"z", "10.1234/élan"]

    static let csv = """
        work,viewed,saved,discussed,cited,recommended,counter.total_item_requests,counter.unique_item_requests,crossref.cites,"my,src.a""b",reddit.comments,reddit.posts,wikipedia.mentions
        10.1234/Zeta,0,0,0,0,0,0,0,0,0,0,0,0
        10.1234/abc,0,0,2,31,0,0,0,31,0,0,0,2
        10.1234/abd,0,0,0,1,0,0,0,1,7,0,0,0
        "10.1234/x,y""z",0,0,8,0,0,0,0,0,0,5,3,0
        10.1234/élan,120,0,0,0,0,120,80,0,0,0,0,0

        """

    /// `count` works with seeded random sources, categories and months.
    static func random(count: Int, seed: UInt64) -> [WorkAggregate] {
        var generator = SplitMix64(seed: seed)
        let pool: [(String, [String])] = [
            ("crossref", ["cites"]), ("datacite", ["views", "downloads"]), ("wikipedia", ["mentions"]),
            ("reddit", ["posts", "comments"]), ("bluesky", ["posts", "likes"]), ("counter", ["total_item_requests"]),
        ]
        return (0..<count).map { index in
            var sources: [String: [String: UInt64]] = [:]
            for (source, metrics) in pool where Bool.random(using: &generator) {
                for metric in metrics { sources[source, default: [:]][metric] = UInt64.random(in: 1...9_999, using: &generator) }
            }
            var categories: [Category: UInt64] = [:]
            for category in Category.allCases where Bool.random(using: &generator) {
                categories[category] = UInt64.random(in: 1...UInt64.max / 2, using: &generator)
            }
            let month = "2026-0\(Int.random(in: 1...9, using: &generator))"
            return WorkAggregate(work: "10.\(1000 + index % 7)/w\(UInt32.random(in: 0...UInt32.max, using: &generator)).\(index)",
                                 sources: sources, categories: categories, byMonth: [month: [.viewed: 1]])
        }
    }
}

/// SHA-256 (FIPS 180-4) in plain Swift, to check the manifest's digests independently of swift-crypto.
enum ReferenceSHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    static func hex(_ message: [UInt8]) -> String {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var data = message
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        let bitLength = UInt64(message.count) * 8
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        func rotate(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        var w = [UInt32](repeating: 0, count: 64)
        for block in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                w[i] = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(data[block + i * 4 + $1]) }
            }
            for i in 16..<64 {
                let s0 = rotate(w[i - 15], 7) ^ rotate(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotate(w[i - 2], 17) ^ rotate(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let t1 = hh &+ (rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
                let t2 = (rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            for (i, value) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ value }
        }
        return h.map { word in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 8 - digits.count) + digits
        }.joined()
    }
}
