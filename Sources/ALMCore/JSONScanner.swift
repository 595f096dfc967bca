/// The lexical half of the raw event decoder: a cursor over the UTF-8 bytes of one JSON text that
/// recognises tokens strictly by RFC 8259 and never reads outside the buffer.
///
/// Strings are first scanned (validated, measured) and only turned into `String` values by the caller
/// that keeps them, so field names and enum values cost no allocation.
struct JSONScanner {
    /// How deeply objects and arrays may nest inside a skipped value (`meta`, an unknown field).
    static let maximumDepth = 32

    let bytes: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { position >= bytes.count }

    /// The byte under the cursor, nil at the end.
    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func advance() {
        position += 1
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(EventValidationError) {
        guard current == byte else { throw unexpected(expecting: what) }
        position += 1
    }

    /// A syntax error at the cursor that names what was expected and what was found.
    func unexpected(expecting what: String) -> EventValidationError {
        guard let byte = current else {
            return .syntax("unexpected end of input, expected \(what)", at: position)
        }
        let found = byte >= 0x21 && byte <= 0x7E ? "\"\(Character(Unicode.Scalar(byte)))\"" : "byte 0x\(hex(byte))"
        return .syntax("expected \(what), found \(found)", at: position)
    }

    // MARK: - Strings

    struct StringToken {
        /// Byte range of the content between the quotes, still escaped.
        let contentStart: Int
        let contentEnd: Int
        let hasEscapes: Bool
        /// Length of the decoded string in Unicode scalars (what JSON Schema's maxLength counts).
        let scalarCount: Int

        var rawByteCount: Int { contentEnd - contentStart }
    }

    /// Scans a string at the cursor (which must be at its opening quote): valid UTF-8, no raw control
    /// characters, only JSON's escapes, surrogates only in valid pairs.
    mutating func scanString() throws(EventValidationError) -> StringToken {
        position += 1
        let contentStart = position
        var hasEscapes = false
        var scalarCount = 0
        while true {
            while position + 8 <= bytes.count,
                !containsQuoteBackslashControlOrNonASCII(bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            {
                position += 8
                scalarCount += 8
            }
            guard position < bytes.count else {
                throw .syntax("unterminated string starting at byte \(contentStart - 1)", at: position)
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") { break }
            scalarCount += 1
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                try scanEscape()
            } else if byte < 0x20 {
                throw .syntax("unescaped control character 0x\(hex(byte)) in a string", at: position)
            } else if byte < 0x80 {
                position += 1
            } else {
                position += try validUTF8SequenceLength(at: position)
            }
        }
        let token = StringToken(
            contentStart: contentStart, contentEnd: position, hasEscapes: hasEscapes, scalarCount: scalarCount)
        position += 1
        return token
    }

    private mutating func scanEscape() throws(EventValidationError) {
        let escapeStart = position
        guard position + 1 < bytes.count else { throw .syntax("unterminated escape sequence", at: escapeStart) }
        switch bytes[position + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 2
        case UInt8(ascii: "u"):
            let unit = try hexEscapeValue(at: position)
            position += 6
            if (0xDC00...0xDFFF).contains(unit) {
                throw .syntax("\\u escape is a low surrogate without a preceding high surrogate", at: escapeStart)
            }
            if (0xD800...0xDBFF).contains(unit) {
                let unpaired = EventValidationError.syntax(
                    "\\u escape is a high surrogate without a low surrogate after it", at: escapeStart)
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw unpaired }
                let low = try hexEscapeValue(at: position)
                guard (0xDC00...0xDFFF).contains(low) else { throw unpaired }
                position += 6
            }
        default:
            throw .syntax("invalid escape sequence in a string", at: escapeStart)
        }
    }

    /// The code unit of the `\uXXXX` escape whose backslash is at `start`.
    private func hexEscapeValue(at start: Int) throws(EventValidationError) -> UInt32 {
        guard start + 6 <= bytes.count else { throw .syntax("truncated \\u escape", at: start) }
        var value: UInt32 = 0
        for index in (start + 2)..<(start + 6) {
            guard let digit = hexDigitValue(bytes[index]) else {
                throw .syntax("\\u must be followed by four hex digits", at: start)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// The length of the well-formed UTF-8 sequence starting at `start` (Unicode Table 3-7: no overlong
    /// forms, no surrogates, nothing above U+10FFFF).
    private func validUTF8SequenceLength(at start: Int) throws(EventValidationError) -> Int {
        let lead = bytes[start]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw .syntax("invalid UTF-8", at: start)
        }
        guard start + length <= bytes.count, secondRange.contains(bytes[start + 1]) else {
            throw .syntax("invalid UTF-8", at: start)
        }
        for index in (start + 2)..<(start + length) where !(0x80...0xBF).contains(bytes[index]) {
            throw .syntax("invalid UTF-8", at: start)
        }
        return length
    }

    /// The decoded text of a scanned string. Only for tokens `scanString` returned on this buffer.
    func makeString(_ token: StringToken) -> String {
        guard token.hasEscapes else { return text(from: token.contentStart, to: token.contentEnd) }
        let content = UnsafeRawBufferPointer(rebasing: bytes[token.contentStart..<token.contentEnd])
        // Every escape is at least as long as the UTF-8 it stands for, so the escaped length suffices.
        return String(unsafeUninitializedCapacity: token.rawByteCount) { output in
            Self.unescape(content, into: output)
        }
    }

    /// The bytes `start..<end`, already validated as UTF-8, as a `String`.
    func text(from start: Int, to end: Int) -> String {
        let count = end - start
        guard count > 0 else { return "" }
        let content = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        return String(unsafeUninitializedCapacity: count) { buffer in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: content)
            return count
        }
    }

    /// True when the scanned string is exactly (byte for byte, not merely canonically equivalent) `literal`.
    func string(_ token: StringToken, equals literal: StaticString) -> Bool {
        guard token.hasEscapes else {
            return bytesEqual(UnsafeRawBufferPointer(rebasing: bytes[token.contentStart..<token.contentEnd]), literal)
        }
        var decoded = makeString(token)
        return decoded.withUTF8 { bytesEqual(UnsafeRawBufferPointer($0), literal) }
    }

    /// The field named by a scanned key, if it is one of the schema's.
    func field(named token: StringToken) -> EventField? {
        guard token.hasEscapes else {
            return EventField(name: UnsafeRawBufferPointer(rebasing: bytes[token.contentStart..<token.contentEnd]))
        }
        return Array(makeString(token).utf8).withUnsafeBytes { EventField(name: $0) }
    }

    /// Decodes escapes of an already validated string body; returns the number of bytes written.
    private static func unescape(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        var read = 0
        var written = 0
        func emit(_ byte: UInt8) {
            output[written] = byte
            written += 1
        }
        func codeUnit(at index: Int) -> UInt32 {
            var value: UInt32 = 0
            for offset in 2..<6 { value = value << 4 | UInt32(hexDigitValue(input[index + offset]) ?? 0) }
            return value
        }
        while read < input.count {
            let byte = input[read]
            guard byte == UInt8(ascii: "\\") else {
                emit(byte)
                read += 1
                continue
            }
            let kind = input[read + 1]
            read += 2
            switch kind {
            case UInt8(ascii: "b"): emit(0x08)
            case UInt8(ascii: "f"): emit(0x0C)
            case UInt8(ascii: "n"): emit(0x0A)
            case UInt8(ascii: "r"): emit(0x0D)
            case UInt8(ascii: "t"): emit(0x09)
            case UInt8(ascii: "u"):
                var scalarValue = codeUnit(at: read - 2)
                read += 4
                if (0xD800...0xDBFF).contains(scalarValue) {
                    let low = codeUnit(at: read)
                    read += 6
                    scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
                }
                // Validated before: a scalar value, never a lone surrogate.
                switch scalarValue {
                case ..<0x80:
                    emit(UInt8(scalarValue))
                case ..<0x800:
                    emit(0xC0 | UInt8(scalarValue >> 6))
                    emit(0x80 | UInt8(scalarValue & 0x3F))
                case ..<0x10000:
                    emit(0xE0 | UInt8(scalarValue >> 12))
                    emit(0x80 | UInt8(scalarValue >> 6 & 0x3F))
                    emit(0x80 | UInt8(scalarValue & 0x3F))
                default:
                    emit(0xF0 | UInt8(scalarValue >> 18))
                    emit(0x80 | UInt8(scalarValue >> 12 & 0x3F))
                    emit(0x80 | UInt8(scalarValue >> 6 & 0x3F))
                    emit(0x80 | UInt8(scalarValue & 0x3F))
                }
            default: emit(kind)  // \" \\ \/
            }
        }
        return written
    }

    // MARK: - Numbers

    struct NumberToken {
        let start: Int
        let end: Int
        /// No fraction and no exponent.
        let isInteger: Bool
        let isNegative: Bool
    }

    /// Scans `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` at the cursor.
    mutating func scanNumber() throws(EventValidationError) -> NumberToken {
        let start = position
        let isNegative = current == UInt8(ascii: "-")
        if isNegative { position += 1 }
        guard let first = current, isDigit(first) else { throw unexpected(expecting: "a digit") }
        position += 1
        if first == UInt8(ascii: "0") {
            if let next = current, isDigit(next) {
                throw .syntax("numbers must not have leading zeros", at: start)
            }
        } else {
            skipDigits()
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            try requireDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            try requireDigits()
        }
        return NumberToken(start: start, end: position, isInteger: isInteger, isNegative: isNegative)
    }

    private mutating func skipDigits() {
        while let byte = current, isDigit(byte) { position += 1 }
    }

    private mutating func requireDigits() throws(EventValidationError) {
        guard let byte = current, isDigit(byte) else { throw unexpected(expecting: "a digit") }
        skipDigits()
    }

    /// The value of an integer token if it lies in `0...maximum`; "-0" is 0. `maximum` must leave room
    /// for one more digit (at most `(UInt64.max - 9) / 10`), so accumulating can never overflow.
    func unsignedValue(of token: NumberToken, maximum: UInt64) -> UInt64? {
        precondition(maximum <= (UInt64.max - 9) / 10)
        guard token.isInteger else { return nil }
        var value: UInt64 = 0
        for index in (token.isNegative ? token.start + 1 : token.start)..<token.end {
            value = value * 10 + UInt64(bytes[index] - UInt8(ascii: "0"))
            // Stop as soon as the limit is passed: `value` can then not overflow on the next step.
            if value > maximum { return nil }
        }
        if token.isNegative && value != 0 { return nil }
        return value
    }

    // MARK: - Skipping whole values

    /// Validates and passes over the value at the cursor. Nesting deeper than `maximumDepth` is an
    /// error attributed to `field`.
    mutating func skipValue(field: EventField?) throws(EventValidationError) {
        try skipValue(depth: 0, field: field)
    }

    private mutating func skipValue(depth: Int, field: EventField?) throws(EventValidationError) {
        guard let byte = current else { throw unexpected(expecting: "a value") }
        switch byte {
        case UInt8(ascii: "{"):
            try enterContainer(depth: depth + 1, field: field)
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                position += 1
                return
            }
            while true {
                guard current == UInt8(ascii: "\"") else {
                    throw unexpected(expecting: "a field name in double quotes")
                }
                _ = try scanString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "\":\"")
                skipWhitespace()
                try skipValue(depth: depth + 1, field: field)
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    position += 1
                    skipWhitespace()
                    continue
                }
                try expect(UInt8(ascii: "}"), "\",\" or \"}\"")
                return
            }
        case UInt8(ascii: "["):
            try enterContainer(depth: depth + 1, field: field)
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                position += 1
                return
            }
            while true {
                try skipValue(depth: depth + 1, field: field)
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    position += 1
                    skipWhitespace()
                    continue
                }
                try expect(UInt8(ascii: "]"), "\",\" or \"]\"")
                return
            }
        case UInt8(ascii: "\""):
            _ = try scanString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try scanNumber()
        case UInt8(ascii: "t"):
            try skipLiteral("true")
        case UInt8(ascii: "f"):
            try skipLiteral("false")
        case UInt8(ascii: "n"):
            try skipLiteral("null")
        default:
            throw unexpected(expecting: "a value")
        }
    }

    private mutating func enterContainer(depth: Int, field: EventField?) throws(EventValidationError) {
        guard depth <= Self.maximumDepth else {
            throw EventValidationError(
                field: field?.name, reason: .nestingTooDeep,
                message: "objects and arrays nest more than \(Self.maximumDepth) levels deep", byteOffset: position)
        }
        position += 1
    }

    private mutating func skipLiteral(_ literal: StaticString) throws(EventValidationError) {
        let count = literal.utf8CodeUnitCount
        guard count <= bytes.count - position,
            bytesEqual(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)]), literal)
        else { throw .syntax("invalid literal (expected \(literal))", at: position) }
        position += count
    }

    /// How a value at `start` reads in an error message: its JSON type, or the number itself.
    func describeValue(from start: Int, to end: Int) -> String {
        guard start < end else { return "nothing" }
        switch bytes[start] {
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "t"): return "true"
        case UInt8(ascii: "f"): return "false"
        case UInt8(ascii: "n"): return "null"
        default:
            // A number: ASCII by construction.
            let shown = min(end - start, 40)
            let text = String(decoding: bytes[start..<(start + shown)], as: UTF8.self)
            return shown < end - start ? text + "…" : text
        }
    }
}

/// True when any of the eight bytes in `word` is `"`, `\`, below 0x20 or above 0x7F: the bytes a string
/// scan must look at one by one. The others are plain ASCII characters, skipped eight at a time.
/// (Bit tricks from Sean Anderson's "Bit Twiddling Hacks": `hasless` and `haszero`; exact for "any".)
private func containsQuoteBackslashControlOrNonASCII(_ word: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highBits: UInt64 = 0x8080_8080_8080_8080
    func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & highBits != 0 }
    let hasByteBelowSpace = (word &- ones &* 0x20) & ~word & highBits != 0
    return word & highBits != 0 || hasByteBelowSpace
        || hasZeroByte(word ^ (ones &* UInt64(UInt8(ascii: "\""))))
        || hasZeroByte(word ^ (ones &* UInt64(UInt8(ascii: "\\"))))
}

private func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
}

func hexDigitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return byte < 0x10 ? "0" + digits : digits
}
