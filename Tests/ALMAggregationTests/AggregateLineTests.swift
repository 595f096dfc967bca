@testable import ALMAggregation
import ALMCore
import Foundation
import Testing

@Suite("reading aggregate lines back")
struct AggregateLineReadingTests {
    static func randomAggregate(_ generator: inout SystemRandomNumberGenerator) -> WorkAggregate {
        let names = ["crossref", "wikipedia", "pmc", "x\"quoted\"", "back\\slash", "tab\there", "ünïcode", "😀"]
        let metrics = ["views", "downloads", "cites", "references"]
        var sources: [String: [String: UInt64]] = [:]
        for _ in 0..<Int.random(in: 0...4, using: &generator) {
            let source = names.randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                sources[source, default: [:]][metrics.randomElement(using: &generator)!] =
                    [0, 1, 9, 10, UInt64(Int64.max), UInt64.random(in: 0...1_000_000, using: &generator)].randomElement(using: &generator)!
            }
        }
        var categories: [Category: UInt64] = [:]
        for category in Category.allCases where Bool.random(using: &generator) { categories[category] = UInt64.random(in: 1...500, using: &generator) }
        var byMonth: [String: [Category: UInt64]] = [:]
        for _ in 0..<Int.random(in: 0...5, using: &generator) {
            byMonth[String(format: "%04d-%02d", Int.random(in: 1990...2030, using: &generator), Int.random(in: 1...12, using: &generator))] =
                [Category.allCases.randomElement(using: &generator)!: UInt64.random(in: 1...99, using: &generator)]
        }
        let seen = Timestamp(microsecondsSinceEpoch: Int64.random(in: 0...2_000_000_000_000_000, using: &generator))
        let work = "10.5555/" + (Bool.random(using: &generator) ? "alm.\(Int.random(in: 1...99_999, using: &generator))" : names.randomElement(using: &generator)!)
        return WorkAggregate(work: work, sources: sources, categories: categories, byMonth: byMonth,
                             firstSeen: Bool.random(using: &generator) ? seen : nil, lastSeen: Bool.random(using: &generator) ? seen : nil)
    }

    @Test("a line jsonLine() wrote reads back equal, and equal to the general JSON reader's result (10 000 random aggregates)")
    func roundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let aggregate = AggregateLineReadingTests.randomAggregate(&generator)
            let line = aggregate.jsonLine()
            let read = try WorkAggregate(jsonLine: line)
            try #require(read == aggregate, "\(String(decoding: line, as: UTF8.self))")
            try #require(read == (try WorkAggregate(generalJSONLine: line)))
        }
    }

    @Test("other forms of the same JSON read the same; broken lines are refused", arguments: [
        (#"{ "work": "10.1/a", "sources": {"pmc": {"views": 3}}, "categories": {"viewed": 3}, "by_month": {} }"#, true),
        (#"{"sources":{"pmc":{"views":3}},"work":"10.1/a","categories":{"viewed":3,"saved":0},"by_month":{}}"#, true),
        (#"{"work":"10.1\/a","sources":{"pmc":{"views":3}},"categories":{"viewed":3},"by_month":{}}"#, true),
        (#"{"work":"10.1/a","sources":{"pmc":{"views":-3}},"categories":{},"by_month":{}}"#, false),
        (#"{"work":"10.1/a","sources":{"pmc":{"views":3.5}},"categories":{},"by_month":{}}"#, false),
        (#"{"work":"10.1/a","sources":{},"categories":{},"by_month":{},"first_seen":"yesterday"}"#, false),
        (#"{"work":"10.1/a","sources":{"pmc":{"views":3}},"categories":{"viewed":3},"by_month":{}"#, false),
        (#"{"sources":{}}"#, false),
    ])
    func otherForms(line: String, valid: Bool) throws {
        let expected = WorkAggregate(work: "10.1/a", sources: ["pmc": ["views": 3]], categories: [.viewed: 3])
        if valid {
            #expect(try WorkAggregate(jsonLine: Array(line.utf8)) == expected)
        } else {
            #expect(throws: (any Error).self) { try WorkAggregate(jsonLine: Array(line.utf8)) }
        }
    }
}
