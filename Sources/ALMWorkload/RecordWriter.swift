import ALMCore
/// Writes one raw event's JSON straight into bytes, in the canonical member order of
/// `RawEvent.encodedJSON()` (schema_version, kind, id, source, work, obj, subj, metric, value, period,
/// action, occurred_at, observed_at, session, agent, meta), so a record whose `work` is already
/// normalised is byte for byte what ALMCore's encoder writes for it. No Foundation formatting: the
/// benchmark feeds on a million of these.
///
/// Callers write members in that order. Strings are written as given: the generator only ever passes
/// text that needs no JSON escaping (no `"`, `\` or control characters).
struct RecordWriter {
    var bytes: [UInt8]

    init(kind: StaticString, capacity: Int = 400) {
        bytes = []
        bytes.reserveCapacity(capacity)
        append(#"{"schema_version":1,"kind":""#)
        append(kind)
        bytes.append(UInt8(ascii: "\""))
    }

    // MARK: Members

    /// `,"name":"` — the caller writes the string's content, then `closeString()`.
    @inline(__always)
    mutating func openString(_ name: StaticString) {
        append(#",""#)
        append(name)
        append(#"":""#)
    }

    @inline(__always)
    mutating func closeString() {
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func string(_ name: StaticString, _ value: StaticString) {
        openString(name)
        append(value)
        closeString()
    }

    mutating func string(_ name: StaticString, _ value: String) {
        openString(name)
        append(value)
        closeString()
    }

    mutating func number(_ name: StaticString, _ value: UInt64) {
        append(#",""#)
        append(name)
        append(#"":"#)
        appendDecimal(value)
    }

    mutating func timestamp(_ name: StaticString, _ instant: Instant, milliseconds: Bool = false) {
        openString(name)
        appendTimestamp(instant, milliseconds: milliseconds)
        closeString()
    }

    mutating func period(_ month: Month) {
        openString("period")
        appendDigits(month.year, width: 4)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month.month, width: 2)
        closeString()
    }

    /// `,"meta":` followed by the object's text, which the caller writes whole.
    mutating func openMeta() {
        append(#","meta":"#)
    }

    mutating func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    // MARK: Text

    @inline(__always)
    mutating func append(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    @inline(__always)
    mutating func append(byte: UInt8) {
        bytes.append(byte)
    }

    mutating func appendDecimal(_ value: UInt64) {
        appendDecimal(value, to: &bytes)
    }

    mutating func appendDecimal(_ value: Int) {
        appendDecimal(UInt64(value), to: &bytes)
    }

    /// `value` in lower-case hexadecimal, exactly `digits` digits (the low ones).
    mutating func appendHex(_ value: UInt64, digits: Int) {
        var shift = (digits - 1) * 4
        while shift >= 0 {
            bytes.append(hexDigits[Int((value >> UInt64(shift)) & 0xF)])
            shift -= 4
        }
    }

    /// `count` characters drawn from `alphabet`.
    mutating func appendSymbols(_ alphabet: [UInt8], count: Int, _ random: inout SplitMix64) {
        for _ in 0..<count { bytes.append(alphabet[random.below(alphabet.count)]) }
    }

    mutating func appendDOI(_ work: Int) {
        append("10.5555/alm.")
        appendDecimal(work)
    }

    mutating func appendDigits(_ value: Int, width: Int) {
        appendDigits(value, width: width, to: &bytes)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.mmm]Z`.
    mutating func appendTimestamp(_ instant: Instant, milliseconds: Bool) {
        let seconds = instant.milliseconds / 1000
        let days = seconds / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let date = civilDate(daysSinceEpoch: days)
        appendDigits(date.year, width: 4)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(date.month, width: 2)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(date.day, width: 2)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, width: 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, width: 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, width: 2)
        if milliseconds {
            bytes.append(UInt8(ascii: "."))
            appendDigits(Int(instant.milliseconds % 1000), width: 3)
        }
        bytes.append(UInt8(ascii: "Z"))
    }

    private func appendDecimal(_ value: UInt64, to bytes: inout [UInt8]) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        withUnsafeMutableBytes(of: &scratch) { buffer in
            var index = buffer.count
            var rest = value
            while rest > 0 {
                index -= 1
                buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[index...]))
        }
    }

    private func appendDigits(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// The normalised DOI of work number `work`: the record key.
func doiBytes(_ work: Int) -> [UInt8] {
    let prefix: StaticString = "10.5555/alm."
    var digitCount = 1
    var scale = 10
    while work >= scale {
        digitCount += 1
        scale *= 10
    }
    return [UInt8](unsafeUninitializedCapacity: prefix.utf8CodeUnitCount + digitCount) { buffer, count in
        for index in 0..<prefix.utf8CodeUnitCount { buffer[index] = prefix.utf8Start[index] }
        var rest = work
        var index = prefix.utf8CodeUnitCount + digitCount
        repeat {
            index -= 1
            buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        } while rest > 0
        count = prefix.utf8CodeUnitCount + digitCount
    }
}

/// Milliseconds since 1970-01-01T00:00:00Z.
struct Instant: Comparable, Hashable, Sendable {
    var milliseconds: Int64

    init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    init(year: Int, month: Int, day: Int, seconds: Int64 = 0) {
        milliseconds = (Int64(daysSinceEpoch(year: year, month: month, day: day)) * 86_400 + seconds) * 1000
    }

    static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.milliseconds < rhs.milliseconds }

    static func + (lhs: Instant, rhs: Int64) -> Instant { Instant(milliseconds: lhs.milliseconds + rhs) }
    static func - (lhs: Instant, rhs: Int64) -> Instant { Instant(milliseconds: lhs.milliseconds - rhs) }

    /// The instant rounded down to a whole second.
    var wholeSecond: Instant { Instant(milliseconds: milliseconds - milliseconds % 1000) }

    var month: Month {
        let date = civilDate(daysSinceEpoch: milliseconds / 86_400_000)
        return Month(year: date.year, month: date.month)
    }

    static let second: Int64 = 1000
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
}

/// A calendar month, the `period` of the monthly counts.
struct Month: Comparable, Hashable, Sendable {
    var year: Int
    var month: Int

    var index: Int { year * 12 + month - 1 }

    init(year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    init(index: Int) {
        year = index / 12
        month = index % 12 + 1
    }

    func adding(months: Int) -> Month { Month(index: index + months) }

    var start: Instant { Instant(year: year, month: month, day: 1) }

    static func < (lhs: Month, rhs: Month) -> Bool { lhs.index < rhs.index }
}

