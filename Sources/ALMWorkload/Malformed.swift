/// The ways a generated record is broken. Every one makes `RawEventDecoder.decode` throw: a processor
/// must send each such record to `alm.dlq`. A malformed record starts as a valid record of some
/// source (same topic and key) and is then damaged at the byte level.
public enum MalformedKind: String, CaseIterable, Sendable {
    /// Cut short anywhere: `{"schema_version":1,"kind":"ev`.
    case truncated
    /// An invalid UTF-8 sequence inside a string (0xFF, an overlong or truncated sequence, a surrogate).
    case invalidUTF8
    /// `"value":-3`.
    case negativeValue
    /// `"value":"12"`.
    case stringValue
    /// `"value":1.5`, `12.0`, `1e2`.
    case fractionalValue
    /// `"value":9007199254740992` and beyond.
    case valueTooLarge
    /// No `observed_at`.
    case missingObservedAt
    /// No `schema_version`, `kind`, `source`, `work`, `metric` or `value`.
    case missingRequiredField
    /// `work` is not a DOI: `pmid:…`, `PMC…`, `arxiv:…`, a publisher URL, a DOI without suffix. The key
    /// is that identifier as written.
    case notADOI
    /// A `count` without `period`.
    case countWithoutPeriod
    /// A `count` whose `period` is not YYYY-MM(-DD) or no such month or day.
    case badPeriod
    /// An `event` without `id`.
    case eventWithoutID
    /// A field the schema does not know (`likes`, `doi`, `Value`, ...).
    case unknownField
    /// A field given twice.
    case duplicateField
    /// An `id` of 600 characters (at most 512 allowed).
    case oversizedID
    /// A `subj` of more than 2048 characters.
    case oversizedSubj
    /// A `meta` object over 8 KiB.
    case oversizedMeta
    /// `"kind":"like"` and other kinds the schema does not have.
    case unknownKind
    /// `"action":"remove"`.
    case unknownAction
    /// A date-time that is not RFC 3339 or no such instant (`2026-02-30`, a space separator, no zone,
    /// hour 25, a leap second, a number).
    case badTimestamp
    /// `metric` not matching `^[a-z][a-z_]{0,63}$`.
    case badMetric
    /// `source` not matching `^[a-z0-9][a-z0-9_-]{0,63}$`.
    case badSource
    /// `null` for a required field.
    case nullField
    /// `"schema_version":2`, `"1"`, `1.0`.
    case unsupportedSchemaVersion
    /// Not one JSON object: an array around it, two objects in one record, `null`.
    case notAnObject
    /// A trailing comma before `}`.
    case trailingComma

    enum Template {
        case any, count, event
    }

    var template: Template {
        switch self {
        case .countWithoutPeriod, .badPeriod: .count
        case .eventWithoutID, .oversizedID, .unknownAction: .event
        default: .any
        }
    }
}

extension Generator {
    func malformedRecord() -> WorkloadRecord {
        let kind = MalformedKind.allCases[random.below(MalformedKind.allCases.count)]
        let source: Source
        switch kind.template {
        case .any: source = Source.scenario(at: random.unit())
        case .count: source = random.pick(Source.countSources)
        case .event: source = random.pick(Source.eventSources)
        }
        scenarioOutput.removeAll(keepingCapacity: true)
        runScenario(source)
        var record = scenarioOutput[0].record
        scenarioOutput.removeAll(keepingCapacity: true)
        var damage = RecordDamage(bytes: record.value)
        damage.apply(kind, key: &record.key, random: &random)
        record.value = damage.bytes
        record.isMalformed = true
        return record
    }
}

/// Byte-level edits of a generated record. The generator's records are compact JSON whose strings need
/// no escaping, so members can be found by their `"name":` text.
struct RecordDamage {
    var bytes: [UInt8]

    mutating func apply(_ kind: MalformedKind, key: inout [UInt8], random: inout SplitMix64) {
        switch kind {
        case .truncated:
            bytes.removeSubrange(random.inRange(1...(bytes.count - 1))...)
        case .invalidUTF8:
            let sequences: [[UInt8]] = [[0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xFE]]
            let target = member("subj") ?? member("work")!
            let position = target.valueStart + 1 + random.below(target.valueEnd - target.valueStart - 1)
            bytes.insert(contentsOf: random.pick(sequences), at: position)
        case .negativeValue:
            replaceValue("value", "-" + String(1 + random.below(50)))
        case .stringValue:
            let current = text(of: "value")
            replaceValue("value", "\"" + current + "\"")
        case .fractionalValue:
            replaceValue("value", random.pick(["1.5", "12.0", "1e2", "0.5", "3E1"]))
        case .valueTooLarge:
            replaceValue("value", random.pick(["9007199254740992", "18446744073709551616", "100000000000000000000"]))
        case .missingObservedAt:
            removeMember("observed_at")
        case .missingRequiredField:
            removeMember(random.pick(["schema_version", "kind", "source", "work", "metric", "value"]))
        case .notADOI:
            let number = 10_000_000 + random.below(30_000_000)
            let identifier = random.pick([
                "pmid:\(number)", "PMC\(number % 10_000_000)", "arxiv:2401.\(number % 100_000)",
                "https://example.org/article/\(number)", "10.5555", "11.5555/alm.\(number % 1000)",
                "ISBN 978-3-16-148410-0", "10.5555/alm.\(number % 1000) v2",
            ])
            replaceValue("work", "\"" + identifier + "\"")
            key = Array(identifier.utf8)
        case .countWithoutPeriod:
            removeMember("period")
        case .badPeriod:
            replaceValue("period", random.pick([#""2026-13""#, #""2026-1""#, #""2026-02-30""#, #""January 2026""#, #""2026/01""#, "202601"]))
        case .eventWithoutID:
            removeMember("id")
        case .unknownField:
            insertMember(random.pick([#""likes":3"#, #""doi":"10.5555/alm.1""#, #""Value":1"#, #""extra":{}"#, #""tags":["x"]"#, #""timestamp":"2026-03-02T10:00:00Z""#]))
        case .duplicateField:
            insertMember(random.pick([#""value":2"#, #""metric":"views""#, #""kind":"event""#]))
        case .oversizedID:
            let id = text(of: "id").dropFirst().dropLast()
            let padding = String(repeating: "x", count: max(1, 600 - id.unicodeScalars.count - 1))
            replaceValue("id", "\"" + id + ":" + padding + "\"")
        case .oversizedSubj:
            let long = "\"https://example.org/search?q=" + String(repeating: "a", count: 2100) + "\""
            if member("subj") != nil { replaceValue("subj", long) } else { insertMember(#""subj":"# + long) }
        case .oversizedMeta:
            let long = #"{"title":""# + String(repeating: "Lorem ipsum dolor sit amet. ", count: 300) + #""}"#
            if member("meta") != nil { replaceValue("meta", long) } else { insertMember(#""meta":"# + long) }
        case .unknownKind:
            replaceValue("kind", random.pick([#""like""#, #""events""#, #""Event""#, #""""#, #""counter""#]))
        case .unknownAction:
            replaceValue("action", random.pick([#""remove""#, #""retract""#, #""ADD""#]))
        case .badTimestamp:
            let name = member("occurred_at") != nil && random.chance(0.5) ? "occurred_at" : "observed_at"
            replaceValue(name, random.pick([
                #""2026-02-30T10:00:00Z""#, #""2026-03-02 10:00:00Z""#, #""03/02/2026""#, #""2026-03-02T25:00:00Z""#,
                #""2026-03-02T10:00:60Z""#, #""2026-03-02T10:00:00""#, "1772445600", #""yesterday""#,
            ]))
        case .badMetric:
            replaceValue("metric", random.pick([#""Downloads""#, #""page-views""#, #""""#, #""cites2""#, #""_views""#]))
        case .badSource:
            replaceValue("source", random.pick([#""CrossRef""#, #""""#, #""wiki pedia""#, #""_bluesky""#]))
        case .nullField:
            replaceValue(random.pick(["work", "metric", "observed_at", "value", "kind"]), "null")
        case .unsupportedSchemaVersion:
            replaceValue("schema_version", random.pick(["2", "0", #""1""#, "1.0"]))
        case .notAnObject:
            switch random.below(3) {
            case 0:
                bytes = Array("[".utf8) + bytes + Array("]".utf8)
            case 1:
                bytes = bytes + Array("\n".utf8) + bytes
            default:
                bytes = Array("null".utf8)
            }
        case .trailingComma:
            bytes.insert(UInt8(ascii: ","), at: bytes.count - 1)
        }
    }

    /// Where member `name` is: from its leading comma (or its name, when first) to the end of its value.
    struct Member {
        var start: Int
        var valueStart: Int
        var valueEnd: Int
    }

    func member(_ name: String) -> Member? {
        let pattern = Array(("\"" + name + "\":").utf8)
        guard bytes.count >= pattern.count else { return nil }
        var index = 0
        search: while index <= bytes.count - pattern.count {
            for offset in 0..<pattern.count where bytes[index + offset] != pattern[offset] {
                index += 1
                continue search
            }
            let valueStart = index + pattern.count
            return Member(
                start: index > 0 && bytes[index - 1] == UInt8(ascii: ",") ? index - 1 : index,
                valueStart: valueStart, valueEnd: endOfValue(from: valueStart))
        }
        return nil
    }

    private func endOfValue(from start: Int) -> Int {
        var index = start
        switch bytes[start] {
        case UInt8(ascii: "\""):
            index += 1
            while bytes[index] != UInt8(ascii: "\"") { index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1 }
            return index + 1
        case UInt8(ascii: "{"):
            var depth = 0
            var inString = false
            while true {
                let byte = bytes[index]
                if inString {
                    if byte == UInt8(ascii: "\\") { index += 1 } else if byte == UInt8(ascii: "\"") { inString = false }
                } else if byte == UInt8(ascii: "\"") {
                    inString = true
                } else if byte == UInt8(ascii: "{") {
                    depth += 1
                } else if byte == UInt8(ascii: "}") {
                    depth -= 1
                    if depth == 0 { return index + 1 }
                }
                index += 1
            }
        default:
            while bytes[index] != UInt8(ascii: ",") && bytes[index] != UInt8(ascii: "}") { index += 1 }
            return index
        }
    }

    func text(of name: String) -> String {
        guard let found = member(name) else { return "" }
        return String(decoding: bytes[found.valueStart..<found.valueEnd], as: UTF8.self)
    }

    mutating func replaceValue(_ name: String, _ json: String) {
        guard let found = member(name) else {
            insertMember("\"" + name + "\":" + json)
            return
        }
        bytes.replaceSubrange(found.valueStart..<found.valueEnd, with: Array(json.utf8))
    }

    mutating func removeMember(_ name: String) {
        guard let found = member(name) else { return }
        if bytes[found.start] == UInt8(ascii: ",") {
            bytes.removeSubrange(found.start..<found.valueEnd)
        } else {
            // The first member: drop the comma after it instead.
            let end = found.valueEnd < bytes.count && bytes[found.valueEnd] == UInt8(ascii: ",") ? found.valueEnd + 1 : found.valueEnd
            bytes.removeSubrange(found.start..<end)
        }
    }

    /// Adds `,<member>` before the closing brace.
    mutating func insertMember(_ member: String) {
        bytes.insert(contentsOf: Array(("," + member).utf8), at: bytes.count - 1)
    }
}
