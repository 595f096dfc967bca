import Foundation
import Testing

@testable import ALMState

/// The stored forms of values and aggregate lines give back exactly what was stored.
@Suite struct StoredBytesTests {
    @Test func recordValuesRoundTrip() throws {
        var rng = SystemRandomNumberGenerator()
        let key = Array("e\u{0E}10.5555/alm.11\u{07}bluesky6bluesky:did:plc:27ieogrft7k5wxtovyjpuxgq:33ckejf3myrjz".utf8)
        var values: [[UInt8]] = [
            [], [0], [1, 2, 3],
            Array("https://doi.org/10.5555/alm.11 at://did:plc:27ieogrft7k5wxtovyjpuxgq/app.bsky.feed.post/33ckejf3myrjz".utf8),
            Array(repeating: 7, count: 1000), Array(key + key + key),
        ]
        for _ in 0..<2000 {
            let n = Int.random(in: 0..<300, using: &rng)
            // Random bytes, and bytes drawn from the key's alphabet so that matches are frequent.
            values.append((0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) })
            values.append((0..<n).map { _ in key[Int.random(in: 0..<key.count, using: &rng)] })
            var spliced: [UInt8] = []
            while spliced.count < n {
                let from = Int.random(in: 0..<key.count, using: &rng)
                spliced += key[from..<min(key.count, from + Int.random(in: 1...40, using: &rng))]
                spliced.append(UInt8.random(in: 0...255, using: &rng))
            }
            values.append(spliced)
        }
        for value in values {
            for dictionary in [key, []] {
                let stored = StoredBytes.encodeRecord(value: value, key: dictionary)
                #expect(stored.count <= value.count + 1)
                #expect(try StoredBytes.decodeRecord(stored, key: dictionary) == value)
            }
        }
        let typical = values[3]
        #expect(StoredBytes.encodeRecord(value: typical, key: key).count < typical.count - 40)
    }

    @Test func aggregateLinesRoundTrip() throws {
        let work = "10.5555/alm.10012"
        let line = Array(
            #"{"work":"10.5555/alm.10012","sources":{"accesslog":{"downloads":1,"views":1},"bluesky":{"mentions":1},"crossref":{"cites":16}},"categories":{"viewed":2,"saved":0,"discussed":2,"cited":21,"recommended":0},"by_month":{"2025-03":{"cited":5},"2025-11":{"viewed":2,"discussed":1}},"authors":{"bluesky":1},"first_seen":"2025-03-05T11:35:31Z","last_seen":"2026-09-04T08:21:09.172Z"}"#
                .utf8)
        let stored = StoredBytes.encodeAggregate(line: line, work: work)
        #expect(stored.first == 1)
        #expect(stored.count < line.count / 2)
        #expect(try StoredBytes.decodeAggregate(stored, work: work) == line)
        // Lines that do not begin with their own work, hold control bytes or are not JSON at all are kept raw.
        for (other, otherWork) in [
            (line, "10.5555/alm.1001"), (Array("x\u{01}y".utf8), work), ([], work), (Array(#"{"work":"a\"b","x":1}"#.utf8), "a\"b"),
            (Array(#"{"work":"é","sources":{}}"#.utf8), "é"),
        ] {
            let kept = StoredBytes.encodeAggregate(line: other, work: otherWork)
            #expect(try StoredBytes.decodeAggregate(kept, work: otherWork) == other)
        }
        #expect(throws: (any Error).self) { try StoredBytes.decodeAggregate([], work: work) }
        #expect(throws: (any Error).self) { try StoredBytes.decodeRecord([9, 1], key: []) }
        #expect(throws: (any Error).self) { try StoredBytes.decodeRecord([1, 0x80, 0xFF, 0x7F], key: [1]) }
    }
}
