/// The period a `count` event covers: a month (`2026-01`) or a day (`2026-01-15`).
///
/// Ordered chronologically; a month sorts before the days inside it.
public struct Period: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The period exactly as given, `YYYY-MM` or `YYYY-MM-DD`.
    public let text: String
    public let year: Int
    public let month: Int
    /// Nil for a whole month.
    public let day: Int?

    public init(parsing text: String) throws(PeriodError) {
        let parsed: Result<(Int, Int, Int?), PeriodError> =
            text.utf8.withContiguousStorageIfAvailable { Self.parse($0) }
            ?? Array(text.utf8).withUnsafeBufferPointer { Self.parse($0) }
        (year, month, day) = try parsed.get()
        self.text = text
    }

    public var description: String { text }

    public static func < (lhs: Period, rhs: Period) -> Bool {
        (lhs.year, lhs.month, lhs.day ?? 0) < (rhs.year, rhs.month, rhs.day ?? 0)
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<(Int, Int, Int?), PeriodError> {
        guard bytes.count == 7 || bytes.count == 10,
            let year = digits(bytes, 0, 4), bytes[4] == UInt8(ascii: "-"),
            let month = digits(bytes, 5, 2)
        else { return .failure(.malformed) }
        var day: Int?
        if bytes.count == 10 {
            guard bytes[7] == UInt8(ascii: "-"), let parsedDay = digits(bytes, 8, 2) else {
                return .failure(.malformed)
            }
            day = parsedDay
        }
        guard (1...12).contains(month) else { return .failure(.invalidMonth) }
        if let day, !(1...daysInMonth(year: year, month: month)).contains(day) {
            return .failure(.invalidDay)
        }
        return .success((year, month, day))
    }
}

public enum PeriodError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not of the form `YYYY-MM` or `YYYY-MM-DD`.
    case malformed
    case invalidMonth
    /// A day the month does not have, e.g. `2026-02-30`.
    case invalidDay

    public var description: String {
        switch self {
        case .malformed: "expected YYYY-MM or YYYY-MM-DD"
        case .invalidMonth: "month must be 01–12"
        case .invalidDay: "no such day in that month"
        }
    }
}
