import ALMAggregation
import ALMCore
import ALMProcessor
import Foundation
import Testing

@testable import ALMState

private let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let provenanceRules = AggregationRules(
    robots: try! RobotMatcher(listJSON: Data(contentsOf: projectRoot.appendingPathComponent("data/counter-robots/COUNTER_Robots_list.json"))),
    usageLatenessMicroseconds: 2 * 86_400_000_000)

private let alpha = "10.1234/alpha", beta = "10.1234/beta", alphabet = "10.1234/alphabet"
private let googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

private func record(_ json: String) -> RawEvent { try! RawEventDecoder.decode(json) }

private func reference(_ wiki: String, work: String = alpha, action: String = "add", at time: String) -> RawEvent {
    record(#"{"schema_version":1,"kind":"event","id":"wikipedia:\#(wiki):Malaria","source":"wikipedia","work":"\#(work)","obj":"https://doi.org/\#(work)","subj":"https://\#(wiki).wikipedia.org/wiki/Malaria","metric":"references","value":1,"action":"\#(action)","occurred_at":"\#(time)","observed_at":"\#(time)"}"#)
}

private func request(_ id: String, work: String = alpha, session: String, at time: String, agent: String = "Mozilla/5.0 Firefox/133.0") -> RawEvent {
    record(#"{"schema_version":1,"kind":"event","id":"\#(id)","source":"accesslog","work":"\#(work)","obj":"https://example.org/pdf/\#(work)","metric":"downloads","value":1,"occurred_at":"\#(time)","observed_at":"\#(time)","session":"\#(session)","agent":"\#(agent)"}"#)
}

private func total(_ value: Int, work: String = alpha, observed: String) -> RawEvent {
    record(#"{"schema_version":1,"kind":"total","source":"crossref","work":"\#(work)","metric":"cites","value":\#(value),"observed_at":"\#(observed)"}"#)
}

private func count(_ value: Int, period: String, observed: String) -> RawEvent {
    record(#"{"schema_version":1,"kind":"count","source":"counter","work":"\#(alpha)","metric":"downloads","value":\#(value),"period":"\#(period)","observed_at":"\#(observed)"}"#)
}

/// Partition stores filled the way the processor fills them (PartitionTask.drain), without Kafka.
private final class StateBuilder {
    let directory: URL
    private var engines: [Int32: PartitionEngine] = [:]
    private var stores: [Int32: PartitionStore] = [:]
    private var applied: [Int32: Int64] = [:]

    init() {
        directory = URL(fileURLWithPath: NSTemporaryDirectory(), isDirectory: true)
            .appendingPathComponent("alm-provenance-\(UUID().uuidString)", isDirectory: true)
    }

    /// Admits the records in order, then commits one batch as the processor does after a poll.
    func commit(_ records: [RawEvent], partition: Int32) throws {
        let engine = engines[partition] ?? PartitionEngine(rules: provenanceRules)
        engines[partition] = engine
        let store = try stores[partition] ?? PartitionStore(directory: directory, partition: partition)
        stores[partition] = store
        for record in records {
            let admission = engine.admit(record)
            if case .late = admission { Issue.record("late: \(record.id ?? record.metric)") }
            applied[partition, default: 0] += 1
        }
        engine.forgetExpired()
        let changes = engine.drainChanges()
        var batch = StoreBatch()
        batch.upsertRecords = changes.upserts.map { ($0.key.bytes, $0.value) }
        batch.deleteRecords = changes.deletes.map(\.bytes)
        batch.upsertAggregates = changes.works.map { ($0.work, $0.jsonLine()) }
        batch.offsets = ["alm.raw.all": applied[partition]!]
        try store.commit(batch)
    }

    func aggregate(_ work: String) -> WorkAggregate? {
        engines.values.lazy.compactMap { $0.aggregate(work) }.first
    }

    func close() {
        for store in stores.values { store.close() }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Works alpha and alphabet (whose id begins with alpha's) in partition 0, beta in partition 1.
private func buildState() throws -> StateBuilder {
    let state = StateBuilder()
    // Usage requests of February: counted, then forgotten once March's requests move the horizon.
    try state.commit([
        request("o1", session: "s7", at: "2026-02-20T08:00:00Z"),
        request("o2", session: "s8", at: "2026-02-20T09:00:00Z"),
    ], partition: 0)
    try state.commit([
        // A reference delivered twice; one added and later retracted (the retraction decides); a third.
        reference("en", at: "2026-03-02T11:00:00Z"),
        reference("en", at: "2026-03-02T11:00:00Z"),
        reference("de", at: "2026-03-01T09:00:00Z"),
        reference("de", action: "delete", at: "2026-03-05T09:00:00Z"),
        reference("fr", at: "2026-03-03T12:00:00Z"),
        record(#"{"schema_version":1,"kind":"event","id":"hyp-1","source":"hypothesis","work":"\#(alpha)","subj":"https://hypothes.is/a/hyp-1","metric":"annotates","value":1,"occurred_at":"2026-03-04T07:00:00Z","observed_at":"2026-03-04T08:00:00Z"}"#),
        // A total re-observed (31 replaces 25), then an older observation and a repeat change nothing.
        total(25, observed: "2026-02-01T00:00:00Z"),
        total(31, observed: "2026-03-02T00:00:00Z"),
        total(28, observed: "2026-02-15T00:00:00Z"),
        total(31, observed: "2026-03-02T00:00:00Z"),
        // Counts for two periods, January restated.
        count(120, period: "2026-01", observed: "2026-02-03T06:00:00Z"),
        count(50, period: "2026-02", observed: "2026-03-03T06:00:00Z"),
        count(130, period: "2026-01", observed: "2026-02-10T06:00:00Z"),
        // A double click (r1 is followed within 30 s), two counted requests, and a robot.
        request("r1", session: "s1", at: "2026-03-02T10:00:00Z"),
        request("r2", session: "s1", at: "2026-03-02T10:00:20Z"),
        request("r3", session: "s1", at: "2026-03-02T10:01:00Z"),
        request("r4", session: "s2", at: "2026-03-02T10:05:00Z", agent: googlebot),
        // Another work whose id starts with alpha's.
        record(#"{"schema_version":1,"kind":"event","id":"post-1","source":"bluesky","work":"\#(alphabet)","metric":"mentions","value":1,"occurred_at":"2026-03-02T10:00:00Z","observed_at":"2026-03-02T10:00:01Z"}"#),
        reference("en", work: alphabet, at: "2026-03-02T11:00:00Z"),
    ], partition: 0)
    try state.commit([
        reference("en", work: beta, at: "2026-03-02T11:00:00Z"),
        total(7, work: beta, observed: "2026-03-01T00:00:00Z"),
    ], partition: 1)
    return state
}

/// One line per item: what the assertions compare.
private func line(_ item: ProvenanceItem) -> String {
    var parts = [item.kind.rawValue, item.source, item.metric]
    if let id = item.id { parts.append(id) }
    if let period = item.period { parts.append(period.text) }
    parts.append("value=\(item.value)")
    if let action = item.action, action != .add { parts.append(action.rawValue) }
    if item.usage { parts.append("usage") }
    if item.robot { parts.append("robot") }
    parts.append(item.counted.map { $0 ? "counted" : "not counted" } ?? "undetermined")
    if let reason = item.notCountedReason { parts.append(reason.rawValue) }
    return parts.joined(separator: " ")
}

private let alphaLines = [
    "event accesslog downloads r1 value=1 usage not counted double_click",
    "event accesslog downloads r2 value=1 usage counted",
    "event accesslog downloads r3 value=1 usage counted",
    "event accesslog downloads r4 value=1 usage robot not counted robot",
    // Fields are length-prefixed in the key: "wikipedia" (9 bytes) sorts before "hypothesis" (10).
    "event wikipedia references wikipedia:de:Malaria value=1 delete not counted deleted",
    "event wikipedia references wikipedia:en:Malaria value=1 counted",
    "event wikipedia references wikipedia:fr:Malaria value=1 counted",
    "event hypothesis annotates hyp-1 value=1 counted",
    "total crossref cites value=31 counted",
    "count counter downloads 2026-01 value=130 counted",
    "count counter downloads 2026-02 value=50 counted",
]

private let forgottenUsage = ProvenanceGap(
    source: "accesslog", metric: "downloads", reason: .usageForgotten, aggregate: 4, held: 2,
    heldFrom: try! Timestamp(parsing: "2026-02-28T10:04:30Z"))

/// Every page of a query, following the cursors.
private func allPages(_ reader: ProvenanceReader, work: String, source: String? = nil, metric: String? = nil, limit: Int) throws -> [ProvenancePage] {
    var pages: [ProvenancePage] = []
    var cursor: String?
    repeat {
        let page = try reader.page(work: work, source: source, metric: metric, cursor: cursor, limit: limit)
        pages.append(page)
        cursor = page.nextCursor
    } while cursor != nil && pages.count < 100
    return pages
}

@Suite("provenance: the records behind a work's numbers, read from the state directory")
struct ProvenanceTests {
    @Test("a work's page: exact items in order, counted flags, the forgotten usage requests, no personal data")
    func wholePage() throws {
        let state = try buildState()
        defer { state.close() }
        let reader = try ProvenanceReader(stateDirectory: state.directory, rules: provenanceRules)
        defer { reader.close() }

        let page = try reader.page(work: alpha, source: nil, metric: nil, cursor: nil, limit: 100)
        #expect(page.work == alpha)
        #expect(page.found)
        #expect(page.items.map(line) == alphaLines)
        #expect(page.nextCursor == nil)
        #expect(page.incomplete == [forgottenUsage])
        #expect(page.incompleteSources == ["accesslog"])

        // Every field of a few items.
        let de = page.items[4]
        #expect(de.subj == "https://de.wikipedia.org/wiki/Malaria" && de.obj == "https://doi.org/\(alpha)")
        #expect(de.occurredAt?.text == "2026-03-05T09:00:00Z" && de.observedAt.text == "2026-03-05T09:00:00Z")
        #expect(de.action == .delete && de.period == nil && !de.usage && !de.robot)
        let january = page.items[9]
        #expect(january.id == nil && january.occurredAt == nil && january.action == nil)
        #expect(january.observedAt.text == "2026-02-10T06:00:00Z" && january.period?.text == "2026-01")
        let crossref = page.items[8]
        #expect(crossref.observedAt.text == "2026-03-02T00:00:00Z" && crossref.period == nil)

        // Any DOI spelling names the work.
        #expect(try reader.page(work: "https://doi.org/10.1234/ALPHA", source: nil, metric: nil, cursor: nil, limit: 100) == page)

        // JSON: snake_case, counted always present, no session or agent anywhere.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(page), as: UTF8.self)
        #expect(json.contains(#""counted":false,"id":"r1","kind":"event","metric":"downloads","not_counted_reason":"double_click""#))
        #expect(json.contains(#""next_cursor":null"#))
        #expect(json.contains(#""held_from":"2026-02-28T10:04:30Z""#))
        #expect(json.contains(#""reason":"usage_forgotten""#))
        #expect(json.contains(#""period":"2026-01""#))
        for secret in ["s1", "s2", "session", "agent", "Googlebot", "Firefox"] {
            #expect(!json.contains(secret), "\(secret) is exposed")
        }
        #expect(forgottenUsage.note.contains("2 of the 4 downloads counted for accesslog"))
        #expect(forgottenUsage.note.contains("alm.raw.accesslog"))
    }

    @Test("what the listed records count is the aggregate; for usage, together with what was forgotten")
    func countedSumsMatchTheAggregate() throws {
        let state = try buildState()
        defer { state.close() }
        let reader = try ProvenanceReader(stateDirectory: state.directory, rules: provenanceRules)
        defer { reader.close() }
        let snapshot = try StateSnapshot.collect(stateDirectory: state.directory)
        for work in [alpha, beta, alphabet] {
            let aggregate = try #require(snapshot.works.first { $0.work == work })
            #expect(aggregate == state.aggregate(work))
            let pages = try allPages(reader, work: work, limit: 3)
            var counted: [String: [String: UInt64]] = [:]
            for item in pages.flatMap(\.items) where item.counted == true {
                counted[item.source, default: [:]][item.metric, default: 0] += item.value
            }
            for gap in pages[0].incomplete {
                #expect(gap.held == counted[gap.source]?[gap.metric] ?? 0)
                counted[gap.source, default: [:]][gap.metric, default: 0] += gap.aggregate - gap.held
            }
            #expect(counted == aggregate.sources, "\(work)")
        }
        #expect(try reader.page(work: alpha, source: nil, metric: nil, cursor: nil, limit: 100).items.count == 11)
        #expect(try reader.page(work: alphabet, source: nil, metric: nil, cursor: nil, limit: 100).items.map(line) == [
            "event bluesky mentions post-1 value=1 counted",
            "event wikipedia references wikipedia:en:Malaria value=1 counted",
        ])
        #expect(try reader.page(work: beta, source: nil, metric: nil, cursor: nil, limit: 100).items.map(line) == [
            "event wikipedia references wikipedia:en:Malaria value=1 counted",
            "total crossref cites value=7 counted",
        ])
    }

    @Test("pages of any size, across events, totals and counts, add up to the whole list")
    func pagination() throws {
        let state = try buildState()
        defer { state.close() }
        let reader = try ProvenanceReader(stateDirectory: state.directory, rules: provenanceRules)
        defer { reader.close() }

        let two = try allPages(reader, work: alpha, limit: 2)
        let pageLines: [[String]] = two.map { $0.items.map(line) }
        let expectedPages: [[String]] = stride(from: 0, to: alphaLines.count, by: 2).map { Array(alphaLines[$0..<min($0 + 2, alphaLines.count)]) }
        #expect(expectedPages.count == 6)
        #expect(pageLines == expectedPages)
        #expect(two.map(\.incomplete) == Array(repeating: [forgottenUsage], count: 6), "every page says what is not held")
        #expect(two.last?.nextCursor == nil)
        let urlSafe = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for page in two.dropLast() {
            let cursor = try #require(page.nextCursor)
            #expect(!cursor.isEmpty && cursor.allSatisfy(urlSafe.contains), "\(cursor)")
        }

        for limit in 1...12 {
            let pages = try allPages(reader, work: alpha, limit: limit)
            #expect(pages.flatMap(\.items).map(line) == alphaLines, "limit \(limit)")
            #expect(pages.count == max(1, (alphaLines.count + limit - 1) / limit), "limit \(limit): no empty last page")
            #expect(pages.allSatisfy { $0.items.count == limit || $0.nextCursor == nil })
        }
        // A page of exactly the remaining items has no next cursor.
        #expect(try reader.page(work: alpha, source: nil, metric: nil, cursor: nil, limit: 11).nextCursor == nil)
        #expect(try reader.page(work: alpha, source: nil, metric: nil, cursor: nil, limit: 10).nextCursor != nil)
    }

    @Test("source and metric filters, alone, together and paged")
    func filters() throws {
        let state = try buildState()
        defer { state.close() }
        let reader = try ProvenanceReader(stateDirectory: state.directory, rules: provenanceRules)
        defer { reader.close() }
        func lines(source: String? = nil, metric: String? = nil, limit: Int = 100) throws -> [String] {
            try allPages(reader, work: alpha, source: source, metric: metric, limit: limit).flatMap(\.items).map(line)
        }
        #expect(try lines(source: "wikipedia") == Array(alphaLines[4..<7]))
        #expect(try lines(source: "crossref") == [alphaLines[8]])
        #expect(try lines(source: "counter") == Array(alphaLines[9..<11]))
        #expect(try lines(source: "accesslog") == Array(alphaLines[0..<4]))
        #expect(try lines(metric: "downloads") == Array(alphaLines[0..<4]) + Array(alphaLines[9..<11]))
        #expect(try lines(source: "counter", metric: "downloads") == Array(alphaLines[9..<11]))
        #expect(try lines(source: "wikipedia", metric: "downloads").isEmpty)
        #expect(try lines(source: "access").isEmpty, "a source is matched whole, not as a prefix")
        #expect(try lines(source: "nosuchsource").isEmpty)
        #expect(try lines(metric: "annotates") == [alphaLines[7]])

        // The metric filter still fills pages: 6 downloads in pages of 4 and 2, across events and counts.
        let pages = try allPages(reader, work: alpha, metric: "downloads", limit: 4)
        #expect(pages.map(\.items.count) == [4, 2])
        #expect(pages.flatMap(\.items).map(line) == Array(alphaLines[0..<4]) + Array(alphaLines[9..<11]))
        #expect(try lines(metric: "downloads", limit: 1) == Array(alphaLines[0..<4]) + Array(alphaLines[9..<11]))
        #expect(try lines(source: "wikipedia", limit: 1) == Array(alphaLines[4..<7]))

        // What is not held is reported for the sources and metrics in scope only.
        let found = try reader.page(work: alpha, source: "wikipedia", metric: nil, cursor: nil, limit: 10)
        #expect(found.found && found.incomplete.isEmpty)
        #expect(try reader.page(work: alpha, source: nil, metric: "cites", cursor: nil, limit: 10).incomplete.isEmpty)
        #expect(try reader.page(work: alpha, source: "accesslog", metric: "downloads", cursor: nil, limit: 10).incomplete == [forgottenUsage])
        #expect(try reader.page(work: alpha, source: nil, metric: "downloads", cursor: nil, limit: 1).incomplete == [forgottenUsage])
    }

    @Test("bad cursors, limits and works are typed client errors; an unknown work is an empty page")
    func errors() throws {
        let state = try buildState()
        defer { state.close() }
        let reader = try ProvenanceReader(stateDirectory: state.directory, rules: provenanceRules)
        defer { reader.close() }

        let unknown = try reader.page(work: "10.1234/nothing", source: nil, metric: nil, cursor: nil, limit: 10)
        #expect(unknown == ProvenancePage(work: "10.1234/nothing", found: false, items: [], nextCursor: nil, incomplete: []))

        let first = try reader.page(work: alpha, source: nil, metric: nil, cursor: nil, limit: 2)
        let cursor = try #require(first.nextCursor)
        let wikipedia = try #require(try reader.page(work: alpha, source: "wikipedia", metric: nil, cursor: nil, limit: 1).nextCursor)
        func failure(work: String = alpha, source: String? = nil, metric: String? = nil, cursor: String?, limit: Int = 2) -> ProvenanceError? {
            #expect(throws: ProvenanceError.self) {
                try reader.page(work: work, source: source, metric: metric, cursor: cursor, limit: limit)
            }
        }
        for bad in ["", "!!!", "a b", "AAAA", "A", String(repeating: "A", count: 9000), String(cursor.dropLast(3)),
                    cursor + "=", "Zm9v", cursor.replacingOccurrences(of: "_", with: "/")] where bad != cursor {
            let error = failure(cursor: bad)
            #expect(error?.code == .invalidCursor, "\(bad.prefix(20))")
            #expect(error?.isClientError == true)
        }
        // A cursor of one query does not fit another.
        #expect(failure(cursor: wikipedia)?.code == .invalidCursor)
        #expect(failure(source: "wikipedia", metric: "references", cursor: wikipedia)?.code == .invalidCursor)
        #expect(failure(work: beta, cursor: cursor)?.code == .invalidCursor)
        #expect(failure(work: beta, cursor: cursor)?.message.contains("another work, source or metric") == true)
        #expect(try reader.page(work: alpha, source: "wikipedia", metric: nil, cursor: wikipedia, limit: 1).items.map(line)
                    == [alphaLines[5]])

        #expect(failure(cursor: nil, limit: 0)?.code == .invalidLimit)
        #expect(failure(cursor: nil, limit: 1001)?.code == .invalidLimit)
        #expect(failure(work: "not a doi", cursor: nil)?.code == .invalidWork)
        #expect(failure(work: "not a doi", cursor: nil)?.isClientError == true)
        // The cursor stays valid while the processor writes: the next page continues after its key.
        #expect(try reader.page(work: alpha, source: nil, metric: nil, cursor: cursor, limit: 2).items.map(line) == Array(alphaLines[2..<4]))
    }

    @Test("the reader sees the writer's later commits and partitions created after it opened")
    func readsAlongsideTheWriter() throws {
        let state = try buildState()
        defer { state.close() }
        let reader = try ProvenanceReader(stateDirectory: state.directory, rules: provenanceRules)
        defer { reader.close() }
        #expect(try reader.page(work: alpha, source: "wikipedia", metric: nil, cursor: nil, limit: 10).items.count == 3)

        try state.commit([reference("it", at: "2026-03-06T10:00:00Z")], partition: 0)
        #expect(try reader.page(work: alpha, source: "wikipedia", metric: nil, cursor: nil, limit: 10).items.map(line)
                    == Array(alphaLines[4..<7]) + ["event wikipedia references wikipedia:it:Malaria value=1 counted"])

        #expect(try !reader.page(work: "10.1234/delta", source: nil, metric: nil, cursor: nil, limit: 10).found)
        try state.commit([reference("en", work: "10.1234/delta", at: "2026-03-06T10:00:00Z")], partition: 5)
        let delta = try reader.page(work: "10.1234/delta", source: nil, metric: nil, cursor: nil, limit: 10)
        #expect(delta.found && delta.items.count == 1)
    }

    @Test("a partition store of an older schema: other works are read, a work not found is unavailable, not unknown")
    func olderSchema() throws {
        let state = try buildState()
        defer { state.close() }
        try state.commit([reference("en", work: "10.1234/old", at: "2026-03-06T10:00:00Z")], partition: 3)
        try PartitionStore.executeUncheckedSQL(
            "UPDATE meta SET value = 2 WHERE key = 'schema_version'",
            databaseAt: PartitionStore.fileURL(directory: state.directory, partition: 3))
        let opening = #expect(throws: StoreError.self) {
            try PartitionStore(directory: state.directory, partition: 3, readOnly: true)
        }
        #expect(opening?.code == .incompatible)
        #expect(opening?.message.contains("schema_version is 2; this build reads schema_version 5") == true)
        #expect(opening?.message.contains("must be rebuilt") == true)

        let reader = try ProvenanceReader(stateDirectory: state.directory, rules: provenanceRules)
        defer { reader.close() }
        #expect(reader.unavailablePartitions.keys.sorted() == [3])
        #expect(try reader.page(work: alpha, source: nil, metric: nil, cursor: nil, limit: 100).items.map(line) == alphaLines)
        let error = #expect(throws: ProvenanceError.self) {
            try reader.page(work: "10.1234/old", source: nil, metric: nil, cursor: nil, limit: 10)
        }
        #expect(error?.code == .unavailable)
        #expect(error?.isClientError == false)
    }
}
