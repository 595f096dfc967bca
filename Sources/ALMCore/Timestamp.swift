/// An RFC 3339 date-time as a record carried it, with the instant it denotes.
///
/// Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with `t` and `z` in either case (RFC 3339 §5.6),
/// years 0000–9999, real calendar dates (no month 13, no 30 February), hours 00–23, minutes and seconds
/// 00–59. Fraction digits beyond microseconds are truncated, not rounded. Rejected: a leap second
/// (`:60`) — no source sends one and the instant could not represent it — and the space separator some
/// RFC 3339 applications allow (JSON Schema's `date-time` does not).
///
/// Equality, hashing and ordering are by instant only: `2026-03-02T11:04:09Z` equals
/// `2026-03-02T12:04:09+01:00`. `text` keeps the original spelling so re-encoding a record changes no byte.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The date-time exactly as given.
    public let text: String
    public let microsecondsSinceEpoch: Int64

    public init(parsing text: String) throws(TimestampError) {
        let parsed: Result<Int64, TimestampError> =
            text.utf8.withContiguousStorageIfAvailable { Self.parseInstant($0) }
            ?? Array(text.utf8).withUnsafeBufferPointer { Self.parseInstant($0) }
        self.text = text
        self.microsecondsSinceEpoch = try parsed.get()
    }

    /// The instant written in UTC as `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z`; nil outside years 0000–9999.
    public init?(microsecondsSinceEpoch: Int64) {
        guard microsecondsSinceEpoch >= Self.earliestMicroseconds,
            microsecondsSinceEpoch <= Self.latestMicroseconds
        else { return nil }
        self.text = String(unsafeUninitializedCapacity: Self.maximumCanonicalLength) { buffer in
            Self.writeCanonical(microsecondsSinceEpoch, into: buffer)
        }
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// True when `text` is the spelling `init(microsecondsSinceEpoch:)` gives the same instant (UTC,
    /// upper-case `T` and `Z`, the shortest of no, 3 or 6 fraction digits), checked without building it.
    public var hasCanonicalText: Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maximumCanonicalLength) { buffer in
            let count = Self.writeCanonical(microsecondsSinceEpoch, into: buffer)
            var text = text
            return text.withUTF8 { utf8 in
                utf8.count == count && utf8.elementsEqual(UnsafeBufferPointer(rebasing: buffer[..<count]))
            }
        }
    }

    private static let maximumCanonicalLength = 27

    /// Writes the canonical spelling of an instant within years 0000–9999 into `buffer` (at least 27
    /// bytes); returns its length.
    private static func writeCanonical(_ microseconds: Int64, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let (seconds, microsecond) = floorDivision(microseconds, 1_000_000)
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let date = civilDate(daysSinceEpoch: days)
        var index = 0
        func put(_ value: Int, _ width: Int) {
            var rest = value
            for position in stride(from: index + width - 1, through: index, by: -1) {
                buffer[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            index += width
        }
        func put(_ byte: Unicode.Scalar) {
            buffer[index] = UInt8(ascii: byte)
            index += 1
        }
        put(date.year, 4); put("-"); put(date.month, 2); put("-"); put(date.day, 2)
        put("T"); put(secondOfDay / 3600, 2); put(":"); put(secondOfDay / 60 % 60, 2); put(":"); put(secondOfDay % 60, 2)
        if microsecond % 1000 == 0 {
            if microsecond != 0 { put("."); put(microsecond / 1000, 3) }
        } else {
            put("."); put(microsecond, 6)
        }
        put("Z")
        return index
    }

    public var description: String { text }

    public static func == (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch == rhs.microsecondsSinceEpoch
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(microsecondsSinceEpoch)
    }

    private static let earliestMicroseconds = Int64(daysSinceEpoch(year: 0, month: 1, day: 1)) * 86_400_000_000
    private static let latestMicroseconds = Int64(daysSinceEpoch(year: 10_000, month: 1, day: 1)) * 86_400_000_000 - 1

    static func parseInstant(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<Int64, TimestampError> {
        // Fixed part: YYYY-MM-DDTHH:MM:SS is 19 bytes; the shortest zone is "Z".
        guard bytes.count >= 20,
            let year = digits(bytes, 0, 4), bytes[4] == UInt8(ascii: "-"),
            let month = digits(bytes, 5, 2), bytes[7] == UInt8(ascii: "-"),
            let day = digits(bytes, 8, 2), bytes[10] | 0x20 == UInt8(ascii: "t"),
            let hour = digits(bytes, 11, 2), bytes[13] == UInt8(ascii: ":"),
            let minute = digits(bytes, 14, 2), bytes[16] == UInt8(ascii: ":"),
            let second = digits(bytes, 17, 2)
        else { return .failure(.malformed) }

        var index = 19
        var microsecond = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            var scale = 100_000
            while index < bytes.count, let digit = digitValue(bytes[index]) {
                microsecond += digit * scale
                scale /= 10
                index += 1
            }
            guard index > fractionStart else { return .failure(.malformed) }
        }

        guard index < bytes.count else { return .failure(.malformed) }
        var offsetSeconds = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard bytes.count - index == 6,
                let offsetHour = digits(bytes, index + 1, 2), bytes[index + 3] == UInt8(ascii: ":"),
                let offsetMinute = digits(bytes, index + 4, 2)
            else { return .failure(.malformed) }
            guard offsetHour <= 23, offsetMinute <= 59 else { return .failure(.invalidOffset) }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
            index += 6
        default:
            return .failure(.malformed)
        }
        guard index == bytes.count else { return .failure(.malformed) }

        guard (1...12).contains(month), (1...daysInMonth(year: year, month: month)).contains(day) else {
            return .failure(.invalidDate)
        }
        guard hour <= 23, minute <= 59, second <= 59 else { return .failure(.invalidTime) }

        let days = Int64(daysSinceEpoch(year: year, month: month, day: day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        return .success(seconds * 1_000_000 + Int64(microsecond))
    }
}

public enum TimestampError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not of the form `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    case malformed
    /// No such day: month outside 01–12, or a day the month does not have.
    case invalidDate
    /// Hour above 23, or minute or second above 59.
    case invalidTime
    /// Zone offset hour above 23 or minute above 59.
    case invalidOffset

    public var description: String {
        switch self {
        case .malformed: "not of the form YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)"
        case .invalidDate: "no such date"
        case .invalidTime: "hour must be 00–23, minute and second 00–59"
        case .invalidOffset: "zone offset must be within ±23:59"
        }
    }
}

// MARK: - Calendar arithmetic (proleptic Gregorian), shared with Period

func isLeapYear(_ year: Int) -> Bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
}

/// Days from 1970-01-01 to the given date (Howard Hinnant's `days_from_civil`).
public func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
    let shiftedYear = month <= 2 ? year - 1 : year
    let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
    let yearOfEra = shiftedYear - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}

/// The inverse of `daysSinceEpoch` (Hinnant's `civil_from_days`).
public func civilDate(daysSinceEpoch days: Int64) -> (year: Int, month: Int, day: Int) {
    let shifted = Int(days) + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shiftedMonth = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
    let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
}

/// The decimal value of `count` ASCII digits starting at `start`, or nil if any is not a digit.
func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int? {
    guard start >= 0, count <= bytes.count - start else { return nil }
    var value = 0
    for index in start..<(start + count) {
        guard let digit = digitValue(bytes[index]) else { return nil }
        value = value * 10 + digit
    }
    return value
}

func digitValue(_ byte: UInt8) -> Int? {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
}

private func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int) {
    let remainder = value % divisor
    return remainder < 0
        ? (value / divisor - 1, Int(remainder + divisor))
        : (value / divisor, Int(remainder))
}

