@testable import ALMAggregation
import ALMCore
import Testing

/// The deciding records of `engine` as the store would hold them, decoded back, grouped by work.
private func heldRecords(_ changes: EngineChanges) throws -> [String: [DecidingRecord]] {
    var byWork: [String: [DecidingRecord]] = [:]
    for (key, value) in changes.upserts where key.kind != .watermark {
        let decided = try DecidingRecord(key: key.bytes, value: value)
        #expect(decided.key == key)
        byWork[decided.record.work, default: []].append(decided)
    }
    return byWork
}

/// source → metric → what the held records count, judged per (work, source) as the provenance reader does.
private func countedByHeldRecords(_ records: [DecidingRecord], rules: AggregationRules) -> [String: [String: UInt64]] {
    var sums: [String: [String: UInt64]] = [:]
    for source in Set(records.map(\.record.source)) {
        let ofSource = records.map(\.record).filter { $0.source == source }
        let windows = UsageWindows(records: ofSource, rules: rules)
        for record in ofSource {
            let status = rules.countStatus(of: record, windows: windows)
            #expect(status != .undetermined)
            let value = status.countedValue
            if value > 0 { sums[source, default: [:]][record.metric, default: 0] += value }
        }
    }
    return sums
}

@Suite("deciding records: keys by work, decoding, counted status")
struct DecidingRecordTests {
    @Test("an event's key is kind, work, source, id, each LEB128-length-prefixed; totals and counts as before")
    func keyLayout() {
        let reference = event(#"{"schema_version":1,"kind":"event","id":"e1","source":"wikipedia","work":"10.1/a","metric":"references","value":1,"occurred_at":"2026-03-02T11:00:00Z","observed_at":"2026-03-02T11:00:03Z"}"#)
        #expect(StateKey(decidingRecordOf: reference).bytes
            == [0x65, 6] + Array("10.1/a".utf8) + [9] + Array("wikipedia".utf8) + [2] + Array("e1".utf8))
        #expect(StateKey(decidingRecordOf: reference).fields == ["10.1/a", "wikipedia", "e1"])
        let total = goldenInput[3], count = goldenInput[5]
        #expect(StateKey(decidingRecordOf: total).fields == ["10.1/a", "crossref", "cites"])
        #expect(StateKey(decidingRecordOf: total).kind == .total)
        #expect(StateKey(decidingRecordOf: count).fields == ["10.1/a", "counter", "downloads", "2026-01"])
        #expect(StateKey(decidingRecordOf: count).kind == .count)

        // A 200-byte id: its length takes two LEB128 bytes.
        let longID = String(repeating: "x", count: 200)
        let long = event(#"{"schema_version":1,"kind":"event","id":"\#(longID)","source":"s","work":"10.1/a","metric":"references","value":1,"occurred_at":"2026-03-02T11:00:00Z","observed_at":"2026-03-02T11:00:03Z"}"#)
        #expect(Array(StateKey(decidingRecordOf: long).bytes.prefix(12)) == [0x65, 6] + Array("10.1/a".utf8) + [1] + Array("s".utf8) + [0xC8, 0x01])
        #expect(StateKey(decidingRecordOf: long).fields == ["10.1/a", "s", longID])
    }

    @Test("every deciding record of a work lies under its prefixes, in the order events, totals, counts, and no other work's does")
    func prefixes() throws {
        let works = ["10.1/a", "10.1/ab", "10.1/b", "10.1/" + String(repeating: "z", count: 130)]
        let engine = PartitionEngine(rules: AggregationRules(robots: counterRobots))
        for work in works {
            for record in goldenInput {
                let text = String(decoding: record.encodedJSON(), as: UTF8.self)
                    .replacingOccurrences(of: #""work":"\#(record.work)""#, with: #""work":"\#(work)""#)
                engine.apply(event(text))
            }
        }
        let keys = engine.drainChanges().upserts.map(\.key).filter { $0.kind != .watermark }
        #expect(keys.count == works.count * 11)
        for work in works {
            let prefixes = StateKey.prefixes(work: work)
            #expect(prefixes.map(\.kind) == [.event, .total, .count])
            let under = prefixes.map { prefix in keys.filter { $0.bytes.starts(with: prefix.prefix) } }
            #expect(under.map(\.count) == [8, 1, 2], "\(work)")
            #expect(under.joined().allSatisfy { $0.fields?.first == work })
            #expect(keys.filter { $0.fields?.first == work }.count == 11)

            let wikipedia = StateKey.prefixes(work: work, source: "wikipedia")
            #expect(keys.filter { $0.bytes.starts(with: wikipedia[0].prefix) }.count == 2)
            #expect(keys.filter { $0.bytes.starts(with: wikipedia[1].prefix) }.isEmpty)
            let counter = StateKey.prefixes(work: work, source: "counter")
            #expect(keys.filter { $0.bytes.starts(with: counter[2].prefix) }.count == 2)
            // "accesslog" must not match a source "access".
            #expect(keys.filter { $0.bytes.starts(with: StateKey.prefixes(work: work, source: "access")[0].prefix) }.isEmpty)
        }
    }

    @Test("stored values decode back to the deciding record; other rows are refused")
    func decoding() throws {
        let engine = PartitionEngine(rules: AggregationRules(robots: counterRobots, usageLatenessMicroseconds: 86_400_000_000))
        for record in goldenInput { _ = engine.admit(record) }
        let upserts = engine.drainChanges().upserts
        let held = try heldRecords(EngineChanges(upserts: upserts))
        let heldCount: Int = held.values.map(\.count).reduce(0, +)
        #expect(heldCount == engine.recordCount)
        for decided in held.values.joined() {
            #expect(engine.decided[decided.key]?.row == StoredRecord.value(of: decided.record))
        }

        let watermark = try #require(upserts.first { $0.key.kind == .watermark })
        #expect(watermark.key == UsageWatermark.key(source: "accesslog"))
        #expect(UsageWatermark.decode(watermark.value) == engine.watermarks["accesslog"])
        #expect(throws: RestoreError.self) { try DecidingRecord(key: watermark.key.bytes, value: watermark.value) }

        let total = goldenInput[3]
        #expect(throws: RestoreError.self) { try DecidingRecord(key: StateKey(decidingRecordOf: goldenInput[5]).bytes, value: StoredRecord.value(of: total)) }
        #expect(throws: RestoreError.self) { try DecidingRecord(key: StateKey(decidingRecordOf: total).bytes, value: Array("{}".utf8)) }
        #expect(throws: RestoreError.self) { try DecidingRecord(key: StateKey(decidingRecordOf: total).bytes, value: total.encodedJSON()) }
        #expect(throws: RestoreError.self) { try DecidingRecord(key: [], value: StoredRecord.value(of: total)) }
        #expect(try DecidingRecord(key: StateKey(decidingRecordOf: total).bytes, value: StoredRecord.value(of: total)) == DecidingRecord(total))
    }

    @Test("hand-judged: counted, deleted, robot, double click; undetermined without the window")
    func goldenStatus() throws {
        let rules = AggregationRules(robots: counterRobots)
        let engine = PartitionEngine(rules: rules)
        for record in goldenInput { engine.apply(record) }
        let held = try heldRecords(engine.drainChanges())
        let accesslog = held["10.1/b"]!.map(\.record)
        let windows = UsageWindows(records: accesslog, rules: rules)
        func status(_ id: String) -> CountStatus {
            rules.countStatus(of: accesslog.first { $0.id == id }!, windows: windows)
        }
        #expect(status("r1") == .notCounted(.doubleClick))
        #expect(status("r2") == .notCounted(.doubleClick))
        #expect(status("r3") == .counted(1))
        #expect(status("r4") == .counted(1))
        #expect(status("r5") == .counted(1))
        #expect(status("r6") == .notCounted(.robot))
        #expect(rules.isRobot(accesslog.first { $0.id == "r6" }!))
        #expect(rules.countStatus(of: accesslog.first { $0.id == "r3" }!) == .undetermined)
        #expect(rules.countStatus(of: accesslog.first { $0.id == "r3" }!, windows: UsageWindows(rules: rules)) == .undetermined)
        #expect(rules.countStatus(of: accesslog.first { $0.id == "r6" }!) == .notCounted(.robot), "a robot needs no window")

        let a = held["10.1/a"]!.map(\.record)
        #expect(rules.countStatus(of: a.first { $0.id == "wikipedia:en:Malaria:10.1/a" }!) == .notCounted(.deleted))
        #expect(rules.countStatus(of: a.first { $0.id == "wikipedia:de:Malaria:10.1/a" }!) == .counted(1))
        #expect(rules.countStatus(of: a.first { $0.kind == .total }!) == .counted(31))
        #expect(a.filter { $0.kind == .count }.map { rules.countStatus(of: $0) }.sorted { $0.countedValue < $1.countedValue }
                    == [.counted(50), .counted(130)])
        #expect(CountStatus.counted(3).isCounted == true && CountStatus.notCounted(.robot).isCounted == false
                    && CountStatus.undetermined.isCounted == nil)
    }

    @Test("what the held records count, judged record by record, is the aggregate (unbounded state)", arguments: 0..<20)
    func countedSumsAreTheAggregate(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed &* 104_729 &+ 5)
        let rules = AggregationRules(robots: counterRobots)
        let engine = PartitionEngine(rules: rules)
        for record in randomRecords(count: 30 + Int(rng.next() % 120), using: &rng) { engine.apply(record) }
        let held = try heldRecords(engine.drainChanges())
        for aggregate in engine.allAggregates() {
            #expect(countedByHeldRecords(held[aggregate.work] ?? [], rules: rules) == aggregate.sources, "\(aggregate.work)")
        }
    }

    @Test("with a horizon the held records count what the unbounded engine's same records count, and the aggregate the rest", arguments: 0..<4)
    func countedWithHorizon(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed &+ 900)
        let second: Int64 = 1_000_000
        let start = try Timestamp(parsing: "2026-03-01T00:00:00Z").microsecondsSinceEpoch
        // Requests in time order (jitter within the lateness, so none is late), bursts included, from two
        // usage sources, and a few non-usage events.
        var records: [RawEvent] = []
        for index in 0..<1500 {
            let time = Timestamp(microsecondsSinceEpoch: start + Int64(index) * 40 * second + Int64(rng.next() % 60) * second)!.text
            let source = rng.next() % 2 == 0 ? "accesslog" : "pmc"
            let agent = rng.next() % 10 == 0 ? "Googlebot/2.1" : "Mozilla/5.0 Firefox/133.0"
            records.append(event(#"{"schema_version":1,"kind":"event","id":"r\#(index)","source":"\#(source)","work":"10.1/w\#(rng.next() % 3)","metric":"\#(rng.next() % 2 == 0 ? "views" : "downloads")","value":1,"occurred_at":"\#(time)","observed_at":"\#(time)","session":"s\#(rng.next() % 3)","agent":"\#(agent)"}"#))
            if index % 50 == 0 {
                records.append(event(#"{"schema_version":1,"kind":"event","id":"p\#(index)","source":"bluesky","work":"10.1/w\#(rng.next() % 3)","metric":"mentions","value":1,"occurred_at":"\#(time)","observed_at":"\#(time)"}"#))
            }
        }
        let bounded = PartitionEngine(rules: AggregationRules(robots: counterRobots, usageLatenessMicroseconds: 3600 * second))
        let unbounded = PartitionEngine(rules: AggregationRules(robots: counterRobots))
        var store = DrainedState()
        for (index, record) in records.enumerated() {
            unbounded.apply(record)
            let admission = bounded.admit(record)
            #expect(admission == .applied(changed: true))
            if index % 101 == 0 {
                bounded.forgetExpired()
                store.take(bounded.drainChanges())
            }
        }
        bounded.forgetExpired()
        store.take(bounded.drainChanges())
        #expect(snapshotLines(bounded) == snapshotLines(unbounded))

        let stored = EngineChanges(upserts: store.records.map { ($0.key, $0.value) })
        let held = try heldRecords(stored)
        let all = try heldRecords(unbounded.drainChanges())
        let heldCount: Int = held.values.map(\.count).reduce(0, +), allCount: Int = all.values.map(\.count).reduce(0, +)
        #expect(heldCount < allCount / 5, "most requests are forgotten: \(heldCount) of \(allCount) held")
        let rules = bounded.rules
        for aggregate in bounded.allAggregates() {
            let heldHere = held[aggregate.work] ?? []
            // Each held request is judged as the unbounded engine, holding every request, judges it.
            for source in Set(heldHere.map(\.record.source)) {
                let heldWindows = UsageWindows(records: heldHere.map(\.record).filter { $0.source == source }, rules: rules)
                let allWindows = UsageWindows(records: all[aggregate.work]!.map(\.record).filter { $0.source == source }, rules: rules)
                for record in heldHere.map(\.record) where record.source == source {
                    #expect(rules.countStatus(of: record, windows: heldWindows) == rules.countStatus(of: record, windows: allWindows))
                }
            }
            let sums = countedByHeldRecords(heldHere, rules: rules)
            #expect(sums["bluesky"] == aggregate.sources["bluesky"], "non-usage records are all held")
            for source in ["accesslog", "pmc"] {
                for metric in ["views", "downloads"] {
                    let heldSum = sums[source]?[metric] ?? 0, counted = aggregate.sources[source]?[metric] ?? 0
                    #expect(heldSum < counted, "\(aggregate.work) \(source) \(metric): forgotten requests counted")
                }
            }
        }

        // The held usage records all lie at or after usageHeldFrom of their source's watermark.
        for source in ["accesslog", "pmc"] {
            let watermark = try #require(store.records[UsageWatermark.key(source: source)].flatMap(UsageWatermark.decode))
            let from = try #require(rules.usageHeldFrom(watermark: watermark))
            #expect(from == watermark - 3600 * second - 30 * second)
            let times = held.values.joined().map(\.record).filter { $0.source == source }.map { $0.occurredAt!.microsecondsSinceEpoch }
            #expect(!times.isEmpty && times.allSatisfy { $0 >= from })
        }
        #expect(AggregationRules().usageHeldFrom(watermark: 0) == nil)
    }
}
