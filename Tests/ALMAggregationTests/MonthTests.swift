@testable import ALMAggregation
import ALMCore
import Testing

@Suite("the month of an instant")
struct MonthTests {
    @Test("equals the first seven characters of the formatted timestamp, at the edges and at 100 000 random instants")
    func matchesTimestampText() {
        func expected(_ microseconds: Int64) -> String {
            String(Timestamp(microsecondsSinceEpoch: microseconds)?.text.prefix(7) ?? "")
        }
        let day: Int64 = 86_400_000_000
        let earliest = Int64(daysSinceEpoch(year: 0, month: 1, day: 1)) * day
        let latest = Int64(daysSinceEpoch(year: 10_000, month: 1, day: 1)) * day - 1
        var instants: [Int64] = [0, -1, 1, day - 1, day, -day, -day - 1, earliest, earliest - 1, latest, latest + 1, .min, .max]
        var generator = SystemRandomNumberGenerator()
        instants += (0..<100_000).map { _ in Int64.random(in: (earliest - day)...(latest + day), using: &generator) }
        for instant in instants where month(of: instant) != expected(instant) {
            Issue.record("month(of: \(instant)) = \(month(of: instant)), expected \(expected(instant))")
            return
        }
        #expect(month(of: 0) == "1970-01" && month(of: -1) == "1969-12" && month(of: earliest) == "0000-01" && month(of: latest + 1) == "")
    }
}
