import ALMCore

/// The identity of one piece of partition state, as bytes: the kind, then length-prefixed fields.
/// It is the key in memory and in the state store, so both compare ids byte for byte (Swift's
/// `String ==` would identify ids that differ only in Unicode normalisation).
///
/// Every deciding record begins with its work: `kind, work, source, …`. The store keeps records in
/// bytewise key order, so all records of one work of one kind are one contiguous key range (and, within
/// it, those of one source), which the provenance read finds with an index seek (`prefixes(work:source:)`).
/// Fields are LEB128-length-prefixed, so a work's prefix never matches another work that merely starts
/// with the same characters.
public struct StateKey: Hashable, Sendable, Comparable {
    public enum Kind: UInt8, Sendable {
        /// (work, source, id) → the deciding record of an event.
        case event = 0x65
        /// (work, source, metric) → the newest observation of a total.
        case total = 0x74
        /// (work, source, metric, period) → the newest observation of a count.
        case count = 0x63
        /// (source) → the latest usage event time seen, from which the usage horizon follows.
        case watermark = 0x68
        /// (source, session, work, metric) → the usage requests of a double-click window; in memory only.
        case window = 0x77
    }

    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    // The synthesized hash feeds the bytes one at a time: a tenth of the processor's time in a profile.
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public static func == (a: StateKey, b: StateKey) -> Bool { a.bytes == b.bytes }

    init(_ kind: Kind, _ fields: String...) {
        var bytes: [UInt8] = [kind.rawValue]
        for field in fields { Self.append(field, to: &bytes) }
        self.bytes = bytes
    }

    /// Appends one field: its UTF-8 length as LEB128 (so a field can hold any byte, NUL included),
    /// then its bytes.
    static func append(_ field: String, to bytes: inout [UInt8]) {
        var length = field.utf8.count
        repeat {
            let low = UInt8(length & 0x7F)
            length >>= 7
            bytes.append(length == 0 ? low : low | 0x80)
        } while length != 0
        bytes.append(contentsOf: field.utf8)
    }

    /// The key of the deciding record `record` belongs to: events by (work, source, id), totals by
    /// (work, source, metric), counts by (work, source, metric, period).
    public init(decidingRecordOf record: RawEvent) {
        switch record.kind {
        case .event: self.init(.event, record.work, record.source, record.id ?? "")
        case .total: self.init(.total, record.work, record.source, record.metric)
        case .count: self.init(.count, record.work, record.source, record.metric, record.period?.text ?? "")
        }
    }

    /// The key prefixes under which every deciding record of `work` (of `source`, when given) lies, one
    /// per kind, in the order provenance lists them: events, totals, counts. Each prefix is the kind
    /// byte and the length-prefixed work (and source), so a key has the prefix exactly when its first
    /// fields are these: `10.1/a` does not match the records of `10.1/ab`.
    public static func prefixes(work: String, source: String? = nil) -> [(kind: Kind, prefix: [UInt8])] {
        [Kind.event, .total, .count].map { kind in
            var bytes: [UInt8] = [kind.rawValue]
            append(work, to: &bytes)
            if let source { append(source, to: &bytes) }
            return (kind, bytes)
        }
    }

    public var kind: Kind? { bytes.first.flatMap(Kind.init(rawValue:)) }

    /// The fields after the kind byte; nil if the bytes are not a well-formed key.
    public var fields: [String]? {
        var fields: [String] = []
        var index = 1
        while index < bytes.count {
            var length = 0, shift = 0
            while true {
                guard index < bytes.count, shift < 63 else { return nil }
                let byte = bytes[index]
                index += 1
                length |= Int(byte & 0x7F) << shift
                shift += 7
                if byte & 0x80 == 0 { break }
            }
            guard length <= bytes.count - index else { return nil }
            fields.append(String(decoding: bytes[index..<index + length], as: UTF8.self))
            index += length
        }
        return fields
    }

    public static func < (a: StateKey, b: StateKey) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}

/// A work id compared byte for byte.
struct WorkKey: Hashable {
    let text: String

    static func == (a: WorkKey, b: WorkKey) -> Bool {
        // On contiguous UTF-8 buffers: comparing the two UTF8Views generically was 7 % of a profile.
        var a = a.text, b = b.text
        return a.withUTF8 { x in b.withUTF8 { y in x.count == y.count && x.elementsEqual(y) } }
    }

    func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
