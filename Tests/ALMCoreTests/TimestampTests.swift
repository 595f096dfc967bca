import ALMCore
import Testing

struct TimestampTests {
    /// Expected instants computed independently with Python's `datetime`.
    static let validCases: [(text: String, microseconds: Int64)] = [
        ("1970-01-01T00:00:00Z", 0),
        ("2026-02-03T06:00:00Z", 1_770_098_400_000_000),
        ("2026-03-02T11:04:09Z", 1_772_449_449_000_000),
        ("2026-03-02t11:04:09z", 1_772_449_449_000_000),
        ("2026-03-02T12:04:09+01:00", 1_772_449_449_000_000),
        ("2026-03-02T11:04:09+00:00", 1_772_449_449_000_000),
        ("2026-03-02T11:04:09-00:00", 1_772_449_449_000_000),
        ("2026-03-02T11:04:09-05:30", 1_772_469_249_000_000),
        ("2026-03-02T10:00:01.123Z", 1_772_445_601_123_000),
        ("2026-03-02T10:00:01.1Z", 1_772_445_601_100_000),
        ("2026-03-02T10:00:01.123456Z", 1_772_445_601_123_456),
        // Digits beyond microseconds are truncated, not rounded.
        ("2026-03-02T10:00:01.123456999Z", 1_772_445_601_123_456),
        ("2024-02-29T23:59:59.999999Z", 1_709_251_199_999_999),
        ("2000-02-29T12:00:00Z", 951_825_600_000_000),
        ("1969-12-31T23:59:59.5Z", -500_000),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000_000),
        ("0000-01-01T00:00:00Z", -62_167_219_200_000_000),
        ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
        ("2026-12-31T23:30:00-23:59", 1_798_846_140_000_000),
    ]

    static let invalidCases: [(text: String, error: TimestampError)] = [
        ("", .malformed),
        ("2026-03-02", .malformed),
        ("2026-03-02T11:04:09", .malformed),
        ("2026-03-02 11:04:09Z", .malformed),
        ("2026-03-02T11:04Z", .malformed),
        ("2026-3-02T11:04:09Z", .malformed),
        ("2026-03-02T11:04:09.Z", .malformed),
        ("2026-03-02T11:04:09ZZ", .malformed),
        ("2026-03-02T11:04:09+0100", .malformed),
        ("2026-03-02T11:04:09+01:0", .malformed),
        ("2026-03-02T11:04:09+01:00 ", .malformed),
        (" 2026-03-02T11:04:09Z", .malformed),
        ("+2026-03-02T11:04:09Z", .malformed),
        ("２026-03-02T11:04:09Z", .malformed),
        ("2026-13-01T00:00:00Z", .invalidDate),
        ("2026-00-01T00:00:00Z", .invalidDate),
        ("2026-02-30T00:00:00Z", .invalidDate),
        ("2026-02-29T00:00:00Z", .invalidDate),
        ("1900-02-29T00:00:00Z", .invalidDate),
        ("2026-04-31T00:00:00Z", .invalidDate),
        ("2026-01-00T00:00:00Z", .invalidDate),
        ("2026-03-02T24:00:00Z", .invalidTime),
        ("2026-03-02T23:60:00Z", .invalidTime),
        ("2026-12-31T23:59:60Z", .invalidTime),
        ("2026-03-02T11:04:09+24:00", .invalidOffset),
        ("2026-03-02T11:04:09+01:60", .invalidOffset),
    ]

    @Test(arguments: validCases)
    func parsesRFC3339(text: String, microseconds: Int64) throws {
        let timestamp = try Timestamp(parsing: text)
        #expect(timestamp.microsecondsSinceEpoch == microseconds)
        #expect(timestamp.text == text)
    }

    @Test(arguments: invalidCases)
    func rejectsInvalidDateTimes(text: String, error: TimestampError) {
        #expect(throws: error) { try Timestamp(parsing: text) }
    }

    @Test func comparesByInstantOnly() throws {
        let utc = try Timestamp(parsing: "2026-03-02T11:04:09Z")
        let paris = try Timestamp(parsing: "2026-03-02T12:04:09+01:00")
        let later = try Timestamp(parsing: "2026-03-02T11:04:09.000001Z")
        #expect(utc == paris)
        #expect(utc.hashValue == paris.hashValue)
        #expect(utc < later)
        #expect(!(paris < utc) && !(utc < paris))
        #expect([later, paris].max() == later)
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"),
        (1_772_445_601_123_000, "2026-03-02T10:00:01.123Z"),
        (1_772_445_601_123_456, "2026-03-02T10:00:01.123456Z"),
        (-500_000, "1969-12-31T23:59:59.500Z"),
        (-62_167_219_200_000_000, "0000-01-01T00:00:00Z"),
        (253_402_300_799_999_999, "9999-12-31T23:59:59.999999Z"),
    ])
    func formatsInstantsInUTC(microseconds: Int64, text: String) {
        #expect(Timestamp(microsecondsSinceEpoch: microseconds)?.text == text)
    }

    @Test func refusesInstantsOutsideFourDigitYears() {
        #expect(Timestamp(microsecondsSinceEpoch: -62_167_219_200_000_001) == nil)
        #expect(Timestamp(microsecondsSinceEpoch: 253_402_300_800_000_000) == nil)
        #expect(Timestamp(microsecondsSinceEpoch: .min) == nil)
        #expect(Timestamp(microsecondsSinceEpoch: .max) == nil)
    }

    @Test func formattingAndParsingAgreeOverTheWholeRange() throws {
        var generator = SplitMix64(seed: 0x7157_A3B0)
        for _ in 0..<20_000 {
            let microseconds = Int64.random(in: -62_167_219_200_000_000...253_402_300_799_999_999, using: &generator)
            let formatted = try #require(Timestamp(microsecondsSinceEpoch: microseconds))
            let parsed = try Timestamp(parsing: formatted.text)
            #expect(parsed.microsecondsSinceEpoch == microseconds, "\(formatted.text)")
        }
    }
}

struct PeriodTests {
    @Test(arguments: [
        ("2026-01", 2026, 1, nil),
        ("2026-12", 2026, 12, nil),
        ("2026-01-31", 2026, 1, 31),
        ("2024-02-29", 2024, 2, 29),
        ("0000-02-29", 0, 2, 29),
    ] as [(String, Int, Int, Int?)])
    func parsesMonthsAndDays(text: String, year: Int, month: Int, day: Int?) throws {
        let period = try Period(parsing: text)
        #expect(period.text == text)
        #expect(period.year == year)
        #expect(period.month == month)
        #expect(period.day == day)
    }

    @Test(arguments: [
        ("", PeriodError.malformed),
        ("2026", .malformed),
        ("2026-1", .malformed),
        ("2026-01-1", .malformed),
        ("2026/01", .malformed),
        ("2026-01-01T00:00:00Z", .malformed),
        ("26-01-01", .malformed),
        ("2026-13", .invalidMonth),
        ("2026-00", .invalidMonth),
        ("2026-02-29", .invalidDay),
        ("2026-04-31", .invalidDay),
        ("2026-01-00", .invalidDay),
    ])
    func rejectsMalformedPeriods(text: String, error: PeriodError) {
        #expect(throws: error) { try Period(parsing: text) }
    }

    @Test func ordersChronologically() throws {
        let periods = try ["2026-02", "2025-12-31", "2026-01", "2026-01-15"].map { try Period(parsing: $0) }
        #expect(periods.sorted().map(\.text) == ["2025-12-31", "2026-01", "2026-01-15", "2026-02"])
    }
}
