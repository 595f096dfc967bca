/// The identity of one piece of partition state, as bytes: the kind, then length-prefixed fields.
/// It is the key in memory and in the state store, so both compare ids byte for byte (Swift's
/// `String ==` would identify ids that differ only in Unicode normalisation).
public struct StateKey: Hashable, Sendable, Comparable {
    public enum Kind: UInt8, Sendable {
        /// (source, id, work) → the deciding record of an event.
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
        for field in fields {
            var length = field.utf8.count
            // LEB128 length, so a field can hold any byte, NUL included.
            repeat {
                let low = UInt8(length & 0x7F)
                length >>= 7
                bytes.append(length == 0 ? low : low | 0x80)
            } while length != 0
            bytes.append(contentsOf: field.utf8)
        }
        self.bytes = bytes
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

    static func == (a: WorkKey, b: WorkKey) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }

    func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
