import Foundation
import Testing

@testable import ALMState

/// The stored forms of values and aggregate lines give back exactly what was stored.
@Suite struct StoredBytesTests {
    @Test func recordValuesRoundTrip() throws {
        var rng = SystemRandomNumberGenerator()
        let key = Array("e\u{0E}10.5555/alm.11\u{07}bluesky6bluesky:did:plc:27ieogrft7k5wxtovyjpuxgq:33ckejf3myrjz".utf8)
        var values: [[UInt8]] = [
            [], [0], [1, 2, 3],
            Array("https://doi.org/10.5555/alm.11 at://did:plc:27ieogrft7k5wxtovyjpuxgq/app.bsky.feed.post/33ckejf3myrjz".utf8),
            Array(repeating: 7, count: 1000), Array(key + key + key),
        ]
        for _ in 0..<2000 {
            let n = Int.random(in: 0..<300, using: &rng)
            // Random bytes, and bytes drawn from the key's alphabet so that matches are frequent.
            values.append((0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) })
            values.append((0..<n).map { _ in key[Int.random(in: 0..<key.count, using: &rng)] })
            var spliced: [UInt8] = []
            while spliced.count < n {
                let from = Int.random(in: 0..<key.count, using: &rng)
                spliced += key[from..<min(key.count, from + Int.random(in: 1...40, using: &rng))]
                spliced.append(UInt8.random(in: 0...255, using: &rng))
            }
            values.append(spliced)
        }
        for value in values {
            for dictionary in [key, []] {
                let stored = StoredBytes.encodeRecord(value: value, key: dictionary)
                #expect(stored.count <= value.count + 1)
                #expect(try StoredBytes.decodeRecord(stored, key: dictionary) == value)
            }
        }
        let typical = values[3]
        #expect(StoredBytes.encodeRecord(value: typical, key: key).count < typical.count - 40)
    }

    @Test func aggregateLinesRoundTrip() throws {
        let work = "10.5555/alm.10012"
        let line = Array(
            #"{"work":"10.5555/alm.10012","sources":{"accesslog":{"downloads":1,"views":1},"bluesky":{"mentions":1},"crossref":{"cites":16}},"categories":{"viewed":2,"saved":0,"discussed":2,"cited":21,"recommended":0},"by_month":{"2025-03":{"cited":5},"2025-11":{"viewed":2,"discussed":1}},"authors":{"bluesky":1},"first_seen":"2025-03-05T11:35:31Z","last_seen":"2026-09-04T08:21:09.172Z"}"#
                .utf8)
        let stored = StoredBytes.encodeAggregate(line: line, work: work)
        #expect(stored.first == 1)
        #expect(stored.count < line.count / 2)
        #expect(try StoredBytes.decodeAggregate(stored, work: work) == line)
        // Lines that do not begin with their own work, hold control bytes or are not JSON at all are kept raw.
        for (other, otherWork) in [
            (line, "10.5555/alm.1001"), (Array("x\u{01}y".utf8), work), ([], work), (Array(#"{"work":"a\"b","x":1}"#.utf8), "a\"b"),
            (Array(#"{"work":"é","sources":{}}"#.utf8), "é"),
        ] {
            let kept = StoredBytes.encodeAggregate(line: other, work: otherWork)
            #expect(try StoredBytes.decodeAggregate(kept, work: otherWork) == other)
        }
        #expect(throws: (any Error).self) { try StoredBytes.decodeAggregate([], work: work) }
        #expect(throws: (any Error).self) { try StoredBytes.decodeRecord([9, 1], key: []) }
        #expect(throws: (any Error).self) { try StoredBytes.decodeRecord([1, 0x80, 0xFF, 0x7F], key: [1]) }
    }
}

// MARK: - Byte-exactness against the first implementation

/// The stored forms are on disk, so the buffer-pointer coder of `StoredBytes` must write exactly the
/// bytes of the first, Array-based one (kept unchanged at the end of this file as
/// `ReferenceStoredBytes`), and its decoders must return what that one returns and throw where it
/// throws (the same `StoredFormError`). Seeded, so that a failure repeats.
@Suite struct StoredBytesExactnessTests {
    @Test func encodeRecordWritesTheReferenceBytesOnSeededRandomValues() throws {
        #expect(StoredBytes.preset == ReferenceStoredBytes.preset)
        var input = ExactnessInput(seed: 1)
        var mismatches = Mismatches()
        var compact = 0, raw = 0
        for _ in 0..<6000 {
            let key = input.key()
            let value = input.value(key: key)
            let stored = StoredBytes.encodeRecord(value: value, key: key)
            mismatches.check(stored == ReferenceStoredBytes.encodeRecord(value: value, key: key), "encodeRecord(value: \(value), key: \(key))")
            mismatches.check(
                Outcome { try StoredBytes.decodeRecord(stored, key: key) } == .bytes(value), "decodeRecord of \(stored), key: \(key)")
            if stored.first == 1 { compact += 1 } else { raw += 1 }
        }
        #expect(mismatches.count == 0, "\(mismatches.count) differ, the first: \(mismatches.first)")
        // Both forms were chosen often, so both paths were compared.
        #expect(compact > 1000 && raw > 500, "\(compact) compact, \(raw) raw")
    }

    /// The encoder keeps positions as Int16 while preset + key + value fit in 32 KiB, as Int32 beyond:
    /// preset + key + value of sizes around that bound and far past it (copy distances of 3 bytes).
    @Test func encodeRecordWritesTheReferenceBytesOnValuesAroundAndPastThe16BitPositions() throws {
        var input = ExactnessInput(seed: 6)
        var mismatches = Mismatches()
        var compact = 0
        for total in Array(32_760...32_780) + [40_000, 70_000] {
            let key = input.key()
            let value = input.value(key: key, count: total - StoredBytes.preset.count - key.count)
            let stored = StoredBytes.encodeRecord(value: value, key: key)
            mismatches.check(stored == ReferenceStoredBytes.encodeRecord(value: value, key: key), "encodeRecord, preset + key + value of \(total) bytes")
            mismatches.check(
                Outcome { try StoredBytes.decodeRecord(stored, key: key) } == .bytes(value), "decodeRecord, preset + key + value of \(total) bytes")
            if stored.first == 1 { compact += 1 }
        }
        #expect(mismatches.count == 0, "\(mismatches.count) differ, the first: \(mismatches.first)")
        #expect(compact >= 10, "\(compact) of 23 compact")
    }

    @Test func decodeRecordAcceptsAndRejectsAsTheReferenceOnDamagedValues() throws {
        var input = ExactnessInput(seed: 2)
        let (mismatches, accepted, rejected) = compareDecodersOnDamagedInput(
            &input, noKey: [UInt8](),
            stored: { input in
                let key = input.key()
                return (StoredBytes.encodeRecord(value: input.value(key: key), key: key), key)
            },
            damaged: { $0.damagedRecord($1) },
            decode: StoredBytes.decodeRecord, reference: ReferenceStoredBytes.decodeRecord)
        #expect(mismatches.count == 0, "\(mismatches.count) differ, the first: \(mismatches.first)")
        #expect(accepted > 1000 && rejected > 1000, "\(accepted) accepted, \(rejected) rejected")
    }

    @Test func encodeAggregateWritesTheReferenceBytesOnSeededRandomLines() throws {
        var input = ExactnessInput(seed: 3)
        var mismatches = Mismatches()
        var compact = 0, raw = 0
        for _ in 0..<4000 {
            let work = input.work()
            let line = input.line(work: work)
            let stored = StoredBytes.encodeAggregate(line: line, work: work)
            mismatches.check(
                stored == ReferenceStoredBytes.encodeAggregate(line: line, work: work),
                "encodeAggregate(line: \(String(decoding: line, as: UTF8.self).debugDescription), work: \(work.debugDescription))")
            mismatches.check(
                Outcome { try StoredBytes.decodeAggregate(stored, work: work) } == .bytes(line), "decodeAggregate of \(stored), work: \(work)")
            if stored.first == 1 { compact += 1 } else { raw += 1 }
        }
        #expect(mismatches.count == 0, "\(mismatches.count) differ, the first: \(mismatches.first)")
        #expect(compact > 2000 && raw > 400, "\(compact) compact, \(raw) raw")
    }

    @Test func decodeAggregateAcceptsAndRejectsAsTheReferenceOnDamagedLines() throws {
        var input = ExactnessInput(seed: 4)
        let (mismatches, accepted, rejected) = compareDecodersOnDamagedInput(
            &input, noKey: "",
            stored: { input in
                let work = input.work()
                return (StoredBytes.encodeAggregate(line: input.line(work: work), work: work), work)
            },
            damaged: { $0.damagedAggregate($1) },
            decode: StoredBytes.decodeAggregate, reference: ReferenceStoredBytes.decodeAggregate)
        #expect(mismatches.count == 0, "\(mismatches.count) differ, the first: \(mismatches.first)")
        #expect(accepted > 1000 && rejected > 1000, "\(accepted) accepted, \(rejected) rejected")
    }

    @Test func encodersWriteTheReferenceBytesOnRealisticRecordsAndLines() throws {
        var input = ExactnessInput(seed: 5)
        var mismatches = Mismatches()
        var compact = 0
        for _ in 0..<3000 {
            let (key, value) = input.realisticRecord()
            let stored = StoredBytes.encodeRecord(value: value, key: key)
            mismatches.check(stored == ReferenceStoredBytes.encodeRecord(value: value, key: key), "encodeRecord(value: \(value), key: \(key))")
            mismatches.check(
                Outcome { try StoredBytes.decodeRecord(stored, key: key) } == Outcome { try ReferenceStoredBytes.decodeRecord(stored, key: key) },
                "decodeRecord(\(stored), key: \(key))")
            if stored.first == 1 { compact += 1 }
        }
        for _ in 0..<1500 {
            let (work, line) = input.realisticLine()
            let stored = StoredBytes.encodeAggregate(line: line, work: work)
            mismatches.check(
                stored == ReferenceStoredBytes.encodeAggregate(line: line, work: work),
                "encodeAggregate(line: \(String(decoding: line, as: UTF8.self)), work: \(work))")
            mismatches.check(
                Outcome { try StoredBytes.decodeAggregate(stored, work: work) } == Outcome { try ReferenceStoredBytes.decodeAggregate(stored, work: work) },
                "decodeAggregate(\(stored), work: \(work))")
            if stored.first == 1 { compact += 1 }
        }
        #expect(mismatches.count == 0, "\(mismatches.count) differ, the first: \(mismatches.first)")
        // Real rows take the compact forms.
        #expect(compact == 4500)
    }
}

/// What a decoder did: the bytes it returned, or the error it threw.
/// Decodes 2 000 stored forms through both decoders: each with its own key, with the previous one's
/// key, and damaged four ways. Returns where they differ, and how many the new decoder accepted and
/// rejected.
private func compareDecodersOnDamagedInput<Key>(
    _ input: inout ExactnessInput, noKey: Key,
    stored: (inout ExactnessInput) -> (bytes: [UInt8], key: Key),
    damaged: (inout ExactnessInput, [UInt8]) -> [UInt8],
    decode: ([UInt8], Key) throws -> [UInt8], reference: ([UInt8], Key) throws -> [UInt8]
) -> (mismatches: Mismatches, accepted: Int, rejected: Int) {
    var mismatches = Mismatches()
    var accepted = 0, rejected = 0
    var otherKey = noKey
    for _ in 0..<2000 {
        let (bytes, key) = stored(&input)
        var cases = [(bytes, key), (bytes, otherKey)]
        for _ in 0..<4 { cases.append((damaged(&input, bytes), key)) }
        for (bytes, key) in cases {
            let new = Outcome { try decode(bytes, key) }
            mismatches.check(new == Outcome { try reference(bytes, key) }, "decode(\(bytes), key: \(key))")
            if case .bytes = new { accepted += 1 } else { rejected += 1 }
        }
        otherKey = key
    }
    return (mismatches, accepted, rejected)
}

private enum Outcome: Equatable {
    case bytes([UInt8])
    case error(String)

    init(_ decode: () throws -> [UInt8]) {
        do {
            self = .bytes(try decode())
        } catch {
            self = .error("\(type(of: error)): \(error)")
        }
    }
}

/// The inputs on which the two implementations differ: how many, and the first few for the message.
private struct Mismatches {
    var count = 0
    var first: [String] = []

    mutating func check(_ same: Bool, _ input: @autoclosure () -> String) {
        guard !same else { return }
        count += 1
        if first.count < 3 { first.append(input()) }
    }
}

/// Seeded inputs: random and real-looking record keys and values, works and aggregate lines, and
/// damaged stored forms.
private struct ExactnessInput {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ oneIn: Int) -> Bool { int(1...oneIn) == 1 }
    mutating func bytes(_ count: Int, in range: ClosedRange<UInt8> = 0...255) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: range, using: &rng) }
    }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
    mutating func word(_ count: Int) -> String { String(decoding: (0..<count).map { _ in pick(Self.alphabet) }, as: UTF8.self) }

    // Records

    /// 0…200 bytes: random, empty, or the length-prefixed fields of a state key.
    mutating func key() -> [UInt8] {
        switch int(0...3) {
        case 0: return bytes(int(0...200))
        case 1: return []
        default:
            var key: [UInt8] = [pick([0x65, 0x74, 0x63])]
            for field in ["10.\(int(1000...99999))/\(word(int(1...20)))", pick(["bluesky", "crossref", "wikipedia"]), word(int(0...60))] {
                key.append(UInt8(field.utf8.count))
                key += field.utf8
            }
            return key
        }
    }

    /// 0…600 bytes pieced from the preset, the key, earlier bytes of the value (near and far, runs
    /// that overlap their copy, repeats longer than one copy op), random bytes and URLs.
    mutating func value(key: [UInt8], count: Int? = nil) -> [UInt8] {
        let count = count ?? int(0...600)
        // Some values are random bytes alone (stored raw); some are short (where a match barely pays).
        if chance(5) { return bytes(count) }
        if chance(5) { return bytes(int(0...12), in: 0x61...0x64) }
        var value: [UInt8] = []
        while value.count < count {
            switch int(0...6) {
            case 0:
                let preset = StoredBytes.preset
                let from = int(0...preset.count - 1)
                value += preset[from..<min(preset.count, from + int(1...60))]
            case 1 where !key.isEmpty:
                let from = int(0...key.count - 1)
                value += key[from..<min(key.count, from + int(1...40))]
            case 2 where !value.isEmpty:
                let from = int(0...value.count - 1)
                value += value[from..<min(value.count, from + int(1...200))]
            case 3:
                value += [UInt8](repeating: UInt8.random(in: 0...255, using: &rng), count: int(1...300))
            case 4:
                value += pick(["https://doi.org/10.5555/", "at://did:plc:\(word(24))/app.bsky.feed.post/\(word(13))", "views", "mentions"]).utf8
            default:
                value += bytes(int(1...20))
            }
        }
        return Array(value.prefix(count))
    }

    /// `stored` truncated, with a byte changed, inserted or removed, another format byte, or garbage
    /// ops (copies reaching before the start, distances too long or cut off, literal runs past the end).
    mutating func damagedRecord(_ stored: [UInt8]) -> [UInt8] {
        var bytes = stored
        switch int(0...6) {
        case 0: bytes = Array(bytes.prefix(int(0...bytes.count)))
        case 1 where !bytes.isEmpty: bytes[int(0...bytes.count - 1)] = UInt8.random(in: 0...255, using: &rng)
        case 2: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: int(0...bytes.count))
        case 3 where !bytes.isEmpty: bytes.remove(at: int(0...bytes.count - 1))
        case 4 where !bytes.isEmpty: bytes[0] = UInt8(int(0...3))
        case 5:
            bytes = [1]
            for _ in 0..<int(1...6) {
                bytes += chance(2) ? [UInt8(int(0x80...0xFF))] + self.bytes(int(0...5), in: 0x80...0xFF) + self.bytes(1, in: 0...0x7F)
                                   : [UInt8(int(0...0x7F))] + self.bytes(int(0...40))
            }
        default: bytes = [1] + self.bytes(int(0...40))
        }
        return bytes
    }

    /// A record as the processor stores it: its state key and its compact event encoding.
    mutating func realisticRecord() -> (key: [UInt8], value: [UInt8]) {
        // ALMState and its tests do not depend on ALMCore, so the compact encoding's LEB128 is written here.
        func leb(_ value: Int, _ out: inout [UInt8]) {
            var value = value
            repeat {
                let low = UInt8(value & 0x7F)
                value >>= 7
                out.append(value == 0 ? low : low | 0x80)
            } while value != 0
        }
        func field(_ text: String, _ out: inout [UInt8]) {
            leb(text.utf8.count, &out)
            out += text.utf8
        }
        let work = "10.\(int(1000...99999))/\(word(int(4...14)))"
        var key: [UInt8] = [], value: [UInt8] = [1]
        let timestamps = bytes(16)
        switch int(0...3) {
        case 0:
            let did = word(24), post = word(13)
            key = [0x65]; field(work, &key); field("bluesky", &key); field("bluesky:did:plc:\(did):\(post)", &key)
            leb(0b1_0001_1001, &value); leb(1, &value); value += timestamps; field("mentions", &value)
            field("https://doi.org/\(work)", &value); field("at://did:plc:\(did)/app.bsky.feed.post/\(post)", &value)
        case 1:
            key = [0x65]; field(work, &key); field("crossref", &key); field(UUID().uuidString.lowercased(), &key)
            leb(0b10_0001_1001, &value); leb(1, &value); value += timestamps; field("references", &value)
            field("https://doi.org/\(work)", &value); field("https://doi.org/10.\(int(1000...9999))/\(word(10))", &value)
            field(#"{"source_id":"crossref","relation_type_id":"references"}"#, &value)
        case 2:
            key = [0x65]; field(work, &key); field("accesslog", &key); field(word(20), &key)
            leb(0b100_0001_1001, &value); leb(1, &value); value += timestamps; field(pick(["downloads", "views"]), &value)
            field("https://doi.org/\(work)", &value); field(word(16), &value)
            field("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/12\(int(0...9)).0.0.0 Safari/537.36", &value)
        default:
            key = [0x63]; field(work, &key); field("counter", &key); field("downloads", &key); field("2025-0\(int(1...9))", &key)
            leb(0b1_0000_0010, &value); leb(int(1...5000), &value); value += timestamps.prefix(8)
            field(#"{"report":"TR","release":"5.1"}"#, &value)
        }
        return (key, value)
    }

    // Aggregate lines

    mutating func work() -> String {
        pick(["10.5555/alm.10012", "10.1234/abc", "", "a\"b", "é", "10.1/x\u{01}y", "10.9/ünï/çødé", "W123", "10.\(int(1000...99999))/\(word(8))"])
    }

    /// The JSON names and punctuation of the stored tokens, pieces of them, and other JSON.
    static let pieces: [String] = [
        #""sources":{"#, #"}},"categories":{"viewed":"#, #"},"categories":{"viewed":"#, #","saved":"#, #","discussed":"#, #","cited":"#,
        #","recommended":"#, #"},"by_month":{"#, #"":{"viewed":"#, #"":{"saved":"#, #"":{"discussed":"#,
        #"":{"cited":"#, #"}},"authors":{""#, #"}},"first_seen":""#, #"},"first_seen":""#,
        #"","last_seen":""#, #"},""#, #"}}"#, #","20"#, #"":{""#, #""downloads":"#,
        #""views":"#, #""cites":"#, #""references":"#, #""mentions":"#, #""annotates":"#,
        #""discusses":"#, #""recommends":"#, #""bluesky":"#, #""accesslog":{""#,
        #""sources":"#, #"},"categories":{"#, #"},"by_mo"#, #"":{"view"#, #"}},"#, #"","#, #",""#, #"}"#, #"""#, #","#,
        #""crossref":{"cites":16}"#, #""wikipedia":"#, "{", ":", "Z", ".172Z",
    ]

    /// `{"work":"<work>",` (mostly; else another work's or none), then pieces, timestamps and near
    /// timestamps, digits, text and bytes, up to 600 bytes; now and then cut short or holding a control byte.
    mutating func line(work: String) -> [UInt8] {
        var line: [UInt8]
        switch int(0...9) {
        case 0: line = []
        case 1: line = Array(#"{"work":"\#(self.work())","#.utf8)
        default: line = Array(#"{"work":"\#(work)","#.utf8)
        }
        // Now and then longer than the decoder's 1 KiB stack scratch.
        let count = chance(10) ? int(1000...3000) : int(0...600)
        while line.count < count {
            switch int(0...9) {
            case 0, 1, 2: line += pick(Self.pieces).utf8
            case 3: line += timestamp().utf8
            case 4:
                // A timestamp with one byte changed.
                var text = Array(timestamp().utf8)
                text[int(0...text.count - 1)] = pick(Array("0123456789-T:/ aZ".utf8))
                line += text
            case 5: line += String(int(0...99999)).utf8
            case 6: line += word(int(1...12)).utf8
            case 7: line += bytes(int(1...4), in: 0x20...0xFF)
            case 8 where chance(30): line.append(UInt8(int(0...0x1F)))
            default: line += pick(["1", "2", "20", "2025-", "1999-12-31T23:59:5"]).utf8
            }
        }
        return chance(3) ? Array(line.prefix(count)) : line
    }

    /// `YYYY-MM-DDTHH:MM:SS` with random digits, beginning with 1 or 2.
    mutating func timestamp() -> String {
        let digits = (0..<13).map { _ in String(int(0...9)) }
        let d = [pick(["1", "2"])] + digits
        return "\(d[0])\(d[1])\(d[2])\(d[3])-\(d[4])\(d[5])-\(d[6])\(d[7])T\(d[8])\(d[9]):\(d[10])\(d[11]):\(d[12])\(d[13])"
    }

    /// `stored` truncated, with a byte changed, inserted or removed, another format byte, or garbage
    /// tokens (unknown tokens, packed timestamps cut off or with pairs above 99).
    mutating func damagedAggregate(_ stored: [UInt8]) -> [UInt8] {
        var bytes = stored
        switch int(0...6) {
        case 0: bytes = Array(bytes.prefix(int(0...bytes.count)))
        case 1 where !bytes.isEmpty: bytes[int(0...bytes.count - 1)] = UInt8(int(0...0x30))
        case 2: bytes.insert(UInt8(int(0...0x30)), at: int(0...bytes.count))
        case 3 where !bytes.isEmpty: bytes.remove(at: int(0...bytes.count - 1))
        case 4 where !bytes.isEmpty: bytes[0] = UInt8(int(0...3))
        case 5: bytes += [0x1F] + self.bytes(int(0...8), in: 90...110)
        default: bytes = [1] + self.bytes(int(0...40), in: 0...0x40)
        }
        return bytes
    }

    /// A line as `WorkAggregate.jsonLine` writes it: the sources present, the categories with zeros,
    /// the months present with their non-zero categories, authors when known, first and last seen.
    mutating func realisticLine() -> (work: String, line: [UInt8]) {
        let work = "10.\(int(1000...99999))/\(word(int(4...14)))"
        let sources: [(String, [String])] = [
            ("accesslog", ["downloads", "views"]), ("bluesky", ["mentions"]), ("crossref", ["cites", "references"]),
            ("hypothesis", ["annotates"]), ("wikipedia", ["references"]), ("f1000", ["recommends"]),
        ]
        var present = sources.filter { _ in chance(3) }
        if present.isEmpty { present = [sources[2]] }
        let sourceText = present.map { source, metrics in
            "\"\(source)\":{" + metrics.map { "\"\($0)\":\(int(1...40))" }.joined(separator: ",") + "}"
        }.joined(separator: ",")
        var months: [String] = []
        let first = int(1...12)
        for month in first...min(12, first + int(0...3)) {
            var categories = ["viewed", "saved", "discussed", "cited", "recommended"].filter { _ in chance(2) }
            if categories.isEmpty { categories = ["cited"] }
            months.append("\"2025-\(month < 10 ? "0" : "")\(month)\":{" + categories.map { "\"\($0)\":\(int(1...40))" }.joined(separator: ",") + "}")
        }
        let authors = chance(2) ? #","authors":{"bluesky":\#(int(1...9))}"# : ""
        let line = #"{"work":"\#(work)","sources":{\#(sourceText)},"categories":{"viewed":\#(int(0...99)),"saved":0,"discussed":\#(int(0...99)),"cited":\#(int(0...99)),"recommended":0},"by_month":{\#(months.joined(separator: ","))}\#(authors),"first_seen":"\#(timestamp())Z","last_seen":"\#(timestamp()).172Z"}"#
        return (work, Array(line.utf8))
    }
}

// MARK: - The first implementation of schema 5, unchanged: the reference for the bytes on disk

private enum ReferenceStoredBytes {
    // MARK: - Record values

    static func encodeRecord(value: [UInt8], key: [UInt8]) -> [UInt8] {
        let dictionary = preset + key
        let compact = lzEncode(value, dictionary: dictionary)
        if compact.count < value.count, (try? lzDecode(compact[...], dictionary: dictionary)) == value {
            return [1] + compact
        }
        return [0] + value
    }

    static func decodeRecord(_ stored: [UInt8], key: [UInt8]) throws -> [UInt8] {
        guard let format = stored.first else { throw StoredFormError("an empty stored record value") }
        switch format {
        case 0: return Array(stored[1...])
        case 1: return try lzDecode(stored[1...], dictionary: preset + key)
        default: throw StoredFormError("stored record value of unknown format \(format)")
        }
    }

    /// Put before the key in the dictionary: strings common in the values of the sources we collect
    /// (metric names, URL prefixes, Crossref Event Data's relation objects). Part of the stored format:
    /// changing it needs a new schema version.
    static let preset: [UInt8] = Array(
        ([
            "https://doi.org/", "at://did:plc:", "/app.bsky.feed.post/", "mentions", "references", "annotates",
            "discusses", "recommends", "downloads", "views", "https://hypothes.is/a/", "https://f1000.com/prime/",
            #"{"source_id":"f1000","relation_type_id":"recommends"}"#,
            #"{"source_id":"datacite","relation_type_id":"cites"}"#,
            #"{"source_id":"crossref","relation_type_id":"references"}"#,
            #"{"source_id":"crossref","relation_type_id":"cites"}"#,
            "https://en.wikipedia.org/wiki/", ".wikipedia.org/wiki/", #"{"title":""#, "https://openalex.org/W",
            #"{"report":"IR","release":"5.1"}"#, #"{"report":"TR","release":"5.1"}"#,
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) ",
            "https://", "PMC",
        ] as [String]).joined().utf8)

    /// The hash heads of `preset` alone (positions whose 4 bytes lie inside it), computed once.
    private static let presetHeads: [Int32] = {
        var heads = [Int32](repeating: -1, count: 1024)
        var i = 0
        while i + minMatch <= preset.count {
            heads[hash(preset, i)] = Int32(i)
            i += 1
        }
        return heads
    }()

    @inline(__always) private static func hash(_ buffer: [UInt8], _ i: Int) -> Int {
        let v = UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24
        return Int((v &* 2_654_435_761) >> 22)
    }

    /// Ops: a byte `c` < 0x80 is a literal run of `c + 1` bytes that follow; `c` ≥ 0x80 copies
    /// `(c & 0x7F) + minMatch` bytes from the LEB128 distance that follows, counted back from the end of
    /// dictionary + output so far (copies may overlap their own output).
    private static let minMatch = 4

    private static func lzEncode(_ value: [UInt8], dictionary: [UInt8]) -> [UInt8] {
        let buffer = dictionary + value
        let start = dictionary.count
        var out: [UInt8] = []
        out.reserveCapacity(value.count)
        // When the dictionary begins with `preset`, its positions are hashed already.
        let presetIndexed = dictionary.starts(with: preset)
        var heads = presetIndexed ? presetHeads : [Int32](repeating: -1, count: 1024)
        @inline(__always) func hash(_ i: Int) -> Int { Self.hash(buffer, i) }
        var indexed = presetIndexed ? max(0, preset.count - minMatch + 1) : 0  // positions below this are in `heads`
        func index(upTo end: Int) {
            while indexed < end && indexed + minMatch <= buffer.count {
                heads[hash(indexed)] = Int32(indexed)
                indexed += 1
            }
            indexed = max(indexed, end)
        }
        var literalStart = start
        func flushLiterals(_ end: Int) {
            var i = literalStart
            while i < end {
                let n = min(128, end - i)
                out.append(UInt8(n - 1))
                out.append(contentsOf: buffer[i..<i + n])
                i += n
            }
        }
        var i = start
        while i < buffer.count {
            index(upTo: i)
            var matchLength = 0
            var matchAt = 0
            if i + minMatch <= buffer.count {
                let candidate = Int(heads[hash(i)])
                if candidate >= 0 {
                    var n = 0
                    while i + n < buffer.count && n < 127 + minMatch && buffer[candidate + n] == buffer[i + n] { n += 1 }
                    if n >= minMatch {
                        matchLength = n
                        matchAt = candidate
                    }
                }
            }
            if matchLength == 0 {
                i += 1
                continue
            }
            flushLiterals(i)
            out.append(0x80 | UInt8(matchLength - minMatch))
            var distance = i - matchAt
            while distance >= 0x80 {
                out.append(UInt8(distance & 0x7F) | 0x80)
                distance >>= 7
            }
            out.append(UInt8(distance))
            i += matchLength
            literalStart = i
        }
        flushLiterals(buffer.count)
        return out
    }

    private static func lzDecode(_ compact: ArraySlice<UInt8>, dictionary: [UInt8]) throws -> [UInt8] {
        var buffer = dictionary
        buffer.reserveCapacity(dictionary.count + compact.count * 2)
        var i = compact.startIndex
        while i < compact.endIndex {
            let c = compact[i]
            i += 1
            if c < 0x80 {
                let n = Int(c) + 1
                guard i + n <= compact.endIndex else { throw StoredFormError("a literal run past the end") }
                buffer.append(contentsOf: compact[i..<i + n])
                i += n
            } else {
                let n = Int(c & 0x7F) + minMatch
                var distance = 0
                var shift = 0
                while true {
                    guard i < compact.endIndex, shift < 28 else { throw StoredFormError("a bad copy distance") }
                    let b = compact[i]
                    i += 1
                    distance |= Int(b & 0x7F) << shift
                    shift += 7
                    if b < 0x80 { break }
                }
                guard distance > 0, distance <= buffer.count else { throw StoredFormError("a copy before the start") }
                let from = buffer.count - distance
                for k in 0..<n { buffer.append(buffer[from + k]) }
            }
        }
        return Array(buffer[dictionary.count...])
    }

    // MARK: - Aggregate lines

    /// Longest first where one token begins another, so a greedy longest match picks the longer.
    private static let tokens: [[UInt8]] = [
        #""sources":{"#, #"}},"categories":{"viewed":"#, #"},"categories":{"viewed":"#, #","saved":"#, #","discussed":"#, #","cited":"#,
        #","recommended":"#, #"},"by_month":{"#, #"":{"viewed":"#, #"":{"saved":"#, #"":{"discussed":"#,
        #"":{"cited":"#, #"}},"authors":{""#, #"}},"first_seen":""#, #"},"first_seen":""#,
        #"","last_seen":""#, #"},""#, #"}}"#, #","20"#, #"":{""#, #""downloads":"#,
        #""views":"#, #""cites":"#, #""references":"#, #""mentions":"#, #""annotates":"#,
        #""discusses":"#, #""recommends":"#, #""bluesky":"#, #""accesslog":{""#,
    ].map { Array($0.utf8) }

    /// The indexes of the tokens that begin with each byte.
    private static let tokensByFirstByte: [[Int]] = {
        var index = [[Int]](repeating: [], count: 256)
        for (t, token) in tokens.enumerated() { index[Int(token[0])].append(t) }
        return index
    }()

    /// Followed by the 14 digits of a `YYYY-MM-DDTHH:MM:SS` as 7 bytes of two digits each (0–99).
    private static let timestampToken = UInt8(tokens.count + 1)
    private static let timestampPattern = Array("0000-00-00T00:00:00".utf8)

    /// The 7 digit pairs of the `YYYY-MM-DDTHH:MM:SS` at `i`, or nil.
    private static func packedTimestamp(_ line: [UInt8], at i: Int) -> [UInt8]? {
        guard i + timestampPattern.count <= line.count else { return nil }
        var digits: [UInt8] = []
        digits.reserveCapacity(14)
        for (k, p) in timestampPattern.enumerated() {
            let b = line[i + k]
            if p == UInt8(ascii: "0") {
                guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
                digits.append(b - UInt8(ascii: "0"))
            } else if b != p {
                return nil
            }
        }
        return (0..<7).map { digits[2 * $0] * 10 + digits[2 * $0 + 1] }
    }

    static func encodeAggregate(line: [UInt8], work: String) -> [UInt8] {
        let prefix = Array(#"{"work":""#.utf8) + Array(work.utf8) + Array(#"","#.utf8)
        guard line.count > prefix.count, line.starts(with: prefix), !line.contains(where: { $0 < 0x20 }) else {
            return [0] + line
        }
        var out: [UInt8] = [1]
        out.reserveCapacity(line.count / 2)
        var i = prefix.count
        while i < line.count {
            if line[i] == UInt8(ascii: "2") || line[i] == UInt8(ascii: "1"), let packed = packedTimestamp(line, at: i) {
                out.append(timestampToken)
                out.append(contentsOf: packed)
                i += timestampPattern.count
                continue
            }
            var best = -1
            var bestLength = 1
            for t in tokensByFirstByte[Int(line[i])] {
                let token = tokens[t]
                guard token.count > bestLength, i + token.count <= line.count else { continue }
                var k = 1
                while k < token.count && line[i + k] == token[k] { k += 1 }
                if k == token.count {
                    best = t
                    bestLength = token.count
                }
            }
            if best >= 0 {
                out.append(UInt8(best + 1))
                i += bestLength
            } else {
                out.append(line[i])
                i += 1
            }
        }
        if (try? decodeAggregate(out, work: work)) == line { return out }
        return [0] + line
    }

    static func decodeAggregate(_ stored: [UInt8], work: String) throws -> [UInt8] {
        guard let format = stored.first else { throw StoredFormError("an empty stored aggregate") }
        switch format {
        case 0: return Array(stored[1...])
        case 1:
            var out = Array(#"{"work":""#.utf8) + Array(work.utf8) + Array(#"","#.utf8)
            out.reserveCapacity(stored.count * 3)
            var i = 1
            while i < stored.count {
                let b = stored[i]
                i += 1
                if b >= 0x20 {
                    out.append(b)
                } else if b == timestampToken {
                    guard i + 7 <= stored.count else { throw StoredFormError("a packed timestamp past the end") }
                    var digits = stored[i..<i + 7].flatMap { [$0 / 10, $0 % 10] }.makeIterator()
                    guard stored[i..<i + 7].allSatisfy({ $0 < 100 }) else { throw StoredFormError("a bad packed timestamp") }
                    for p in timestampPattern {
                        out.append(p == UInt8(ascii: "0") ? UInt8(ascii: "0") + digits.next()! : p)
                    }
                    i += 7
                } else {
                    let t = Int(b) - 1
                    guard t >= 0, t < tokens.count else { throw StoredFormError("an unknown aggregate token \(b)") }
                    out.append(contentsOf: tokens[t])
                }
            }
            return out
        default: throw StoredFormError("stored aggregate of unknown format \(format)")
        }
    }
}
