@testable import ALMAggregation
import ALMCore
import Testing

private let march1 = try! Timestamp(parsing: "2026-03-01T00:00:00Z").microsecondsSinceEpoch
private let second: Int64 = 1_000_000

private func at(_ seconds: Int64) -> String {
    Timestamp(microsecondsSinceEpoch: march1 + seconds * second)!.text
}

private func request(_ id: String, source: String = "accesslog", work: String, session: String, metric: String = "views",
                     at seconds: Int64, observedAfter lag: Int64 = 2, action: String = "add") -> RawEvent {
    event(#"{"schema_version":1,"kind":"event","id":"\#(id)","source":"\#(source)","work":"\#(work)","metric":"\#(metric)","value":1,"action":"\#(action)","occurred_at":"\#(at(seconds))","observed_at":"\#(at(seconds + lag))","session":"\#(session)","agent":"Mozilla/5.0 Firefox/133.0"}"#)
}

/// Access-log requests as they arrive: in time order give or take `jitter` seconds, over `span`
/// seconds, from a few sessions and works so that bursts interact; some re-delivered, some retracted
/// with the request's own `occurred_at`. With `laterDated`, some retractions and re-timings are dated
/// after the request (the case the horizon documents as no longer exact).
private func usageStream(count: Int, span: Int64, jitter: Int64, laterDated: Bool, using rng: inout SeededGenerator) -> [RawEvent] {
    var timed: [(arrival: Int64, record: RawEvent)] = []
    for index in 0..<count {
        let time = Int64(index) * span / Int64(count) + Int64(rng.next() % 40)
        let work = "10.1/w\(rng.next() % 4)", session = "s\(rng.next() % 3)"
        let arrival = time + Int64(rng.next() % UInt64(jitter + 1))
        let id = "r\(index)"
        timed.append((arrival, request(id, work: work, session: session, at: time)))
        switch rng.next() % 20 {
        case 0: timed.append((arrival + Int64(rng.next() % 60), request(id, work: work, session: session, at: time)))
        case 1: timed.append((arrival + Int64(rng.next() % 60), request(id, work: work, session: session, at: time, action: "delete")))
        case 2 where laterDated:
            let later = time + 600 + Int64(rng.next() % 7200)
            timed.append((later, request(id, work: work, session: session, at: later, action: "delete")))
        case 3 where laterDated:
            let later = time + 60 + Int64(rng.next() % 7200)
            timed.append((later, request(id, work: work, session: session, at: later)))
        default: break
        }
    }
    return timed.sorted { $0.arrival < $1.arrival }.map(\.record)
}

@Suite("aggregation: bounded usage state")
struct EngineHorizonTests {
    @Test("records within the horizon give the aggregates of unbounded state, from bounded state", arguments: 0..<4)
    func exactWithinHorizon(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed &+ 77)
        let records = usageStream(count: 2000, span: 86_400, jitter: 1800, laterDated: false, using: &rng)
        let unbounded = PartitionEngine(rules: AggregationRules())
        let bounded = PartitionEngine(rules: AggregationRules(usageLatenessMicroseconds: 7200 * second))
        var store = DrainedState()
        var deleted = 0
        for (index, record) in records.enumerated() {
            unbounded.apply(record)
            if case .late = bounded.admit(record) { Issue.record("late: \(record.id ?? "")") }
            if index % 97 == 0 {
                bounded.forgetExpired()
                let changes = bounded.drainChanges()
                deleted += changes.deletes.filter { store.records[$0] != nil }.count
                store.take(changes)
            }
        }
        bounded.forgetExpired()
        let changes = bounded.drainChanges()
        deleted += changes.deletes.filter { store.records[$0] != nil }.count
        store.take(changes)
        #expect(snapshotLines(bounded) == snapshotLines(unbounded))
        #expect(try snapshotLines(store.restore(rules: bounded.rules)) == snapshotLines(unbounded))

        // A day of requests, two hours (plus jitter) of lateness: about a tenth is held at the end.
        #expect(unbounded.recordCount == 2000)
        #expect(bounded.recordCount < 300, "held \(bounded.recordCount)")
        #expect(deleted > 1000, "expired records are deleted from the store: \(deleted)")
        #expect(store.records.count == bounded.recordCount + 1, "the held records and one watermark are stored")
    }

    @Test("when expired records are physically forgotten never changes a number or a late decision", arguments: 0..<5)
    func forgettingIsInvisible(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed &+ 4242)
        let records = usageStream(count: 1200, span: 6 * 3600, jitter: 4200, laterDated: true, using: &rng)
        let rules = AggregationRules(usageLatenessMicroseconds: 3600 * second)

        func run(forgetEvery period: Int?, restoreEvery: Int? = nil) throws -> (lines: [String], admissions: [PartitionEngine.Admission]) {
            var engine = PartitionEngine(rules: rules)
            var store = DrainedState()
            var admissions: [PartitionEngine.Admission] = []
            for (index, record) in records.enumerated() {
                admissions.append(engine.admit(record))
                if let period, index % period == period - 1 { engine.forgetExpired() }
                if let restoreEvery, index % restoreEvery == restoreEvery - 1 {
                    store.take(engine.drainChanges())
                    engine = try store.restore(rules: rules)
                }
            }
            return (snapshotLines(engine), admissions)
        }

        let never = try run(forgetEvery: nil)
        let late = never.admissions.filter { if case .late = $0 { true } else { false } }.count
        #expect(late > 0 && late < records.count / 4, "some records are late: \(late)")
        for (forgetEvery, restoreEvery) in [(1, nil), (13, nil), (7, 101), (nil, 250)] as [(Int?, Int?)] {
            let other = try run(forgetEvery: forgetEvery, restoreEvery: restoreEvery)
            #expect(other.lines == never.lines, "forget every \(forgetEvery ?? 0), restore every \(restoreEvery ?? 0)")
            #expect(other.admissions == never.admissions)
        }
    }

    @Test("hand-computed: late requests, expired bursts and a retraction dated after expiry")
    func golden() {
        let engine = PartitionEngine(rules: AggregationRules(usageLatenessMicroseconds: 60 * second))
        func admit(_ record: RawEvent) -> PartitionEngine.Admission { engine.admit(record) }
        func views() -> UInt64? { engine.aggregate("10.1/x")?.sources["accesslog"]?["views"] }
        // A burst: 0 is followed by 20 within 30 s, so only 20 counts.
        #expect(admit(request("a", work: "10.1/x", session: "s", at: 0)) == .applied(changed: true))
        #expect(admit(request("b", work: "10.1/x", session: "s", at: 20)) == .applied(changed: true))
        #expect(engine.drainChanges().upserts.count == 3)  // a, b and the watermark
        // 200 moves the watermark to 200: horizon 140, so 0 and 20 (before 110) expire, their numbers kept.
        #expect(admit(request("c", work: "10.1/x", session: "s", at: 200)) == .applied(changed: true))
        #expect(engine.horizon(of: "accesslog") == march1 + 140 * second)
        #expect(views() == 2)
        #expect(admit(request("d", work: "10.1/x", session: "s", at: 139)) == .late(horizon: march1 + 140 * second))
        #expect(admit(request("b", work: "10.1/x", session: "s", at: 20, action: "delete")) == .late(horizon: march1 + 140 * second))
        // 140 is exactly on the horizon: accepted; 60 s before 200, it counts.
        #expect(admit(request("e", work: "10.1/x", session: "s", at: 140)) == .applied(changed: true))
        #expect(views() == 3)
        // 185 is within 30 s of 200: it does not count; 140 still does (45 s to 185).
        #expect(admit(request("f", work: "10.1/x", session: "s", at: 185)) == .applied(changed: true))
        #expect(views() == 3)
        #expect(Set(engine.drainChanges().deletes) == [engine.stateKey(of: request("a", work: "10.1/x", session: "s", at: 0)),
                                                      engine.stateKey(of: request("b", work: "10.1/x", session: "s", at: 0))])
        // A retraction of b dated 210 is accepted (and moves the horizon to 150), but b is no longer held:
        // it retracts nothing. Unbounded state would count 2 here.
        #expect(admit(request("b", work: "10.1/x", session: "s", at: 210, action: "delete")) == .applied(changed: true))
        #expect(views() == 3)  // b (20), e (140), c (200)
        #expect(engine.aggregate("10.1/x")?.category(.viewed) == 3)
        #expect(engine.horizon(of: "accesslog") == march1 + 150 * second)
        #expect(engine.forgetExpired() == 0)
        // Another source has its own watermark; a request observed before it occurred moves the watermark
        // only to its observed_at.
        #expect(admit(request("g", source: "pmc", work: "10.1/x", session: "s", at: 5)) == .applied(changed: true))
        #expect(engine.horizon(of: "pmc") == march1 + (5 - 60) * second)
        #expect(admit(request("h", source: "pmc", work: "10.1/x", session: "t", at: 100_000, observedAfter: -99_000)) == .applied(changed: true))
        #expect(engine.horizon(of: "pmc") == march1 + (1000 - 60) * second)
        #expect(engine.horizon(of: "accesslog") == march1 + 150 * second)
    }

    @Test("without a lateness nothing is late and nothing is forgotten")
    func unboundedByDefault() {
        let engine = PartitionEngine(rules: AggregationRules())
        #expect(engine.admit(request("a", work: "10.1/x", session: "s", at: 86_400)) == .applied(changed: true))
        #expect(engine.admit(request("b", work: "10.1/x", session: "s", at: 0)) == .applied(changed: true))
        #expect(engine.forgetExpired() == 0)
        #expect(engine.horizon(of: "accesslog") == nil)
        #expect(engine.recordCount == 2)
    }
}
