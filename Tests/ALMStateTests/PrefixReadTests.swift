import Foundation
import Testing

@testable import ALMState

/// `forEachRecord(withPrefix:after:limit:)`: an index range read, checked against a filter of all keys.
@Suite struct PrefixReadTests {
    /// Every byte string of length 0...3 over bytes that sit at the edges of the order.
    static let alphabet: [UInt8] = [0x00, 0x01, 0x7F, 0xFE, 0xFF]
    static func strings(upTo length: Int) -> [[UInt8]] {
        var all: [[UInt8]] = [[]]
        var last: [[UInt8]] = [[]]
        for _ in 0..<length {
            last = last.flatMap { string in alphabet.map { string + [$0] } }
            all += last
        }
        return all
    }
    static let keys = strings(upTo: 3)

    static func expected(prefix: [UInt8], after: [UInt8]? = nil, limit: Int? = nil) -> [[UInt8]] {
        let matching = keys.filter { key in
            key.starts(with: prefix) && (after.map { after in after.lexicographicallyPrecedes(key) } ?? true)
        }.sorted { $0.lexicographicallyPrecedes($1) }
        return limit.map { Array(matching.prefix($0)) } ?? matching
    }

    func withStore<T>(_ body: (PartitionStore) throws -> T) throws -> T {
        try withTemporaryDirectory { directory in
            let store = try PartitionStore(directory: directory, partition: 0)
            defer { store.close() }
            var batch = StoreBatch()
            batch.upsertRecords = Self.keys.map { ($0, [0xAB] + $0) }
            try store.commit(batch)
            return try body(store)
        }
    }

    func read(_ view: StoreView, prefix: [UInt8], after: [UInt8]? = nil, limit: Int? = nil) throws -> [[UInt8]] {
        var seen: [[UInt8]] = []
        let count = try view.forEachRecord(withPrefix: prefix, after: after, limit: limit) { key, value in
            #expect(value == [0xAB] + key)
            seen.append(key)
        }
        #expect(count == seen.count)
        return seen
    }

    @Test func theUpperBoundOfAPrefixSkipsTrailing0xFFBytes() {
        #expect(StoreView.prefixUpperBound([]) == nil)
        #expect(StoreView.prefixUpperBound([0xFF]) == nil)
        #expect(StoreView.prefixUpperBound([0xFF, 0xFF, 0xFF]) == nil)
        #expect(StoreView.prefixUpperBound([0x00]) == [0x01])
        #expect(StoreView.prefixUpperBound([0x01, 0x00]) == [0x01, 0x01])
        #expect(StoreView.prefixUpperBound([0xFE]) == [0xFF])
        #expect(StoreView.prefixUpperBound([0x01, 0xFF]) == [0x02])
        #expect(StoreView.prefixUpperBound([0x00, 0xFF, 0xFF]) == [0x01])
        #expect(StoreView.prefixUpperBound([0x65, 0x06, 0xFF, 0x00, 0xFF]) == [0x65, 0x06, 0xFF, 0x01])
        // The bound is greater than every string with the prefix and than no string without it below it.
        for prefix in Self.strings(upTo: 3) {
            guard let upper = StoreView.prefixUpperBound(prefix) else {
                #expect(prefix.allSatisfy { $0 == 0xFF })
                continue
            }
            for key in Self.keys {
                let below = key.lexicographicallyPrecedes(upper)
                let atOrAbove = !key.lexicographicallyPrecedes(prefix)
                #expect((below && atOrAbove) == key.starts(with: prefix), "\(prefix) \(key)")
            }
        }
    }

    @Test func everyPrefixReadsExactlyTheKeysThatBeginWithIt() throws {
        try withStore { store in
            try store.read { view in
                // Every string of length 0...4: present and absent prefixes, empty, all-0xFF, all-0x00.
                for prefix in Self.strings(upTo: 4) {
                    let seen = try read(view, prefix: prefix)
                    #expect(seen == Self.expected(prefix: prefix), "prefix \(prefix)")
                }
            }
        }
    }

    @Test func afterAndLimitPageThroughAPrefixInKeyOrder() throws {
        try withStore { store in
            try store.read { view in
                let prefixes: [[UInt8]] = [[], [0x00], [0xFF], [0xFF, 0xFF], [0x01, 0xFF], [0x7F, 0x00], [0xFE, 0xFF, 0xFF], [0x02]]
                let afters: [[UInt8]?] = [nil, [], [0x00], [0xFF], [0xFF, 0xFF, 0xFF, 0xFF], [0x01, 0xFF, 0x00], [0x80]]
                    + Self.keys.filter { $0.count == 2 }.map { $0 }
                for prefix in prefixes {
                    for after in afters {
                        for limit in [nil, 0, 1, 2, 1000] as [Int?] {
                            let seen = try read(view, prefix: prefix, after: after, limit: limit)
                            #expect(seen == Self.expected(prefix: prefix, after: after, limit: limit),
                                    "prefix \(prefix) after \(after ?? []) limit \(limit ?? -1)")
                        }
                    }
                    // Pages of two, each continuing after the last key of the one before, read every key once.
                    var pages: [[UInt8]] = []
                    var cursor: [UInt8]?
                    while true {
                        let page = try read(view, prefix: prefix, after: cursor, limit: 2)
                        pages += page
                        guard page.count == 2 else { break }
                        cursor = page.last
                    }
                    #expect(pages == Self.expected(prefix: prefix))
                }
            }
        }
    }

    @Test func aReadOnlyStoreAndTheStoresOwnCallsGiveTheSameAnswers() throws {
        try withTemporaryDirectory { directory in
            let writer = try PartitionStore(directory: directory, partition: 2)
            var batch = StoreBatch()
            batch.upsertRecords = Self.keys.map { ($0, [0xAB] + $0) }
            try writer.commit(batch)
            let reader = try PartitionStore(directory: directory, partition: 2, readOnly: true)
            for store in [writer, reader] {
                var seen: [[UInt8]] = []
                let count = try store.forEachRecord(withPrefix: [0xFF], after: [0xFF, 0x00], limit: 4) { key, _ in seen.append(key) }
                #expect(count == 4)
                #expect(seen == Self.expected(prefix: [0xFF], after: [0xFF, 0x00], limit: 4))
                #expect(try store.record(key: [0xFF, 0x00, 0xFF]) == [0xAB, 0xFF, 0x00, 0xFF])
                #expect(try store.record(key: []) == [0xAB])
                #expect(try store.record(key: [0x02]) == nil)
            }
            // An error of the body passes through as it is, and stops the read.
            var calls = 0
            #expect(throws: InjectedFailure.self) {
                try reader.forEachRecord(withPrefix: [0x01]) { _, _ in
                    calls += 1
                    throw InjectedFailure()
                }
            }
            #expect(calls == 1)
            reader.close()
            writer.close()
        }
    }
}
