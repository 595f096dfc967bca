@testable import ALMAggregation
import ALMCore
import Testing

/// SplitMix64: a small, seeded generator so every run tests the same record sets.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Records drawn from small domains so that collisions — same id, same instant, bursts, restated
/// periods, deletes before adds — are frequent.
func randomRecords(count: Int, using rng: inout SeededGenerator) -> [RawEvent] {
    let works = ["10.1/a", "10.1/b", "10.1/c"]
    func pick<T>(_ values: [T]) -> T { values[Int(rng.next() % UInt64(values.count))] }
    func time(_ base: Int, spread: UInt64 = 120) -> String {
        let seconds = base + Int(rng.next() % spread)
        return "2026-03-0\(1 + seconds / 86_400 % 3)T10:\(String(format: "%02d", seconds / 60 % 60)):\(String(format: "%02d", seconds % 60))Z"
    }
    return (0..<count).map { _ in
        let work = pick(works)
        switch rng.next() % 4 {
        case 0:
            // Authors (at:// subjects) of some events, so author counts are checked for order, duplicates and restores.
            return event(#"{"schema_version":1,"kind":"event","id":"e\#(rng.next() % 6)","source":"\#(pick(["wikipedia", "bluesky"]))","work":"\#(work)","subj":"\#(pick(["at://did:plc:x/p", "at://did:plc:y/p", "https://en.wikipedia.org/wiki/A"]))","metric":"\#(pick(["references", "mentions"]))","value":\#(1 + rng.next() % 2),"action":"\#(pick(["add", "add", "delete"]))","occurred_at":"\#(time(0, spread: 4))","observed_at":"\#(time(0))"}"#)
        case 1:
            return event(#"{"schema_version":1,"kind":"total","source":"crossref","work":"\#(work)","metric":"cites","value":\#(rng.next() % 40),"observed_at":"\#(time(0))"}"#)
        case 2:
            return event(#"{"schema_version":1,"kind":"count","source":"counter","work":"\#(work)","metric":"downloads","value":\#(rng.next() % 200),"period":"2026-0\#(1 + rng.next() % 3)","observed_at":"\#(time(0))"}"#)
        default:
            let agent = rng.next() % 8 == 0 ? "Googlebot/2.1" : "Mozilla/5.0 Firefox/133.0"
            return usage("u\(rng.next() % 12)", work: work, session: "s\(rng.next() % 3)", at: time(0), agent: agent)
        }
    }
}

func snapshotLines(_ engine: PartitionEngine) -> [String] {
    engine.allAggregates().map { String(decoding: $0.jsonLine(), as: UTF8.self) }.sorted()
}

@Suite("aggregation: order does not matter")
struct EnginePropertyTests {
    @Test("every permutation and duplication of a record set gives identical aggregates", arguments: 0..<40)
    func permutationsAndDuplicates(seed: UInt64) {
        var rng = SeededGenerator(state: seed &* 7919 &+ 1)
        let records = randomRecords(count: 10 + Int(rng.next() % 60), using: &rng)
        let rules = AggregationRules(robots: counterRobots)

        let reference = PartitionEngine(rules: rules)
        records.forEach { reference.apply($0) }
        let expected = snapshotLines(reference)
        #expect(!expected.isEmpty)

        for _ in 0..<12 {
            var input = records.shuffled(using: &rng)
            for _ in 0..<Int(rng.next() % 10) { input.insert(records[Int(rng.next() % UInt64(records.count))], at: Int(rng.next() % UInt64(input.count + 1))) }
            let engine = PartitionEngine(rules: rules)
            input.forEach { engine.apply($0) }
            #expect(snapshotLines(engine) == expected)
        }

        // The increments agree with a computation from scratch.
        for aggregate in reference.allAggregates() {
            #expect(reference.recomputedAggregate(aggregate.work) == aggregate)
        }
    }

    @Test("restoring the drained state into a new engine reproduces the aggregates", arguments: 0..<10)
    func restore(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed &+ 1000)
        let records = randomRecords(count: 80, using: &rng)
        let engine = PartitionEngine(rules: AggregationRules(robots: counterRobots))
        var store = DrainedState()
        // Drain in several batches, as the processor does once per poll.
        for chunk in stride(from: 0, to: records.count, by: 17) {
            records[chunk..<min(chunk + 17, records.count)].forEach { engine.apply($0) }
            store.take(engine.drainChanges())
        }
        let restored = try store.restore(rules: AggregationRules(robots: counterRobots))
        #expect(snapshotLines(restored) == snapshotLines(engine))
        #expect(restored.recordCount == engine.recordCount)
    }

    @Test("the aggregate lines the drain writes from the engine's state equal WorkAggregate.jsonLine", arguments: 0..<20)
    func aggregateLines(seed: UInt64) {
        var rng = SeededGenerator(state: seed &+ 5000)
        let records = randomRecords(count: 120, using: &rng)
        let engine = PartitionEngine(rules: AggregationRules(robots: counterRobots))
        var linesSeen = 0
        for chunk in stride(from: 0, to: records.count, by: 9) {
            records[chunk..<min(chunk + 9, records.count)].forEach { engine.apply($0) }
            let changes = engine.drainChanges()
            let expected = changes.works.map { ($0.work, $0.jsonLine()) }
            let lines = changes.aggregateLines
            #expect(lines.map(\.work) == expected.map(\.0))
            for ((work, line), (_, reference)) in zip(lines, expected) {
                #expect(line == reference, "\(work): \(String(decoding: line, as: UTF8.self)) != \(String(decoding: reference, as: UTF8.self))")
            }
            linesSeen += lines.count
        }
        #expect(linesSeen > 0)
    }

    @Test("drainChanges reports exactly the works whose aggregate changed")
    func dirtyWorks() {
        let engine = PartitionEngine(rules: AggregationRules())
        engine.apply(goldenInput[3])
        #expect(engine.drainChanges().works.map(\.work) == ["10.1/a"])
        engine.apply(goldenInput[3])
        let again = engine.drainChanges()
        #expect(again.works.isEmpty && again.upserts.isEmpty, "a duplicate changes nothing")
    }
}

/// What a state store would hold after the drained batches: records and aggregates.
struct DrainedState {
    var records: [StateKey: [UInt8]] = [:]
    var aggregates: [String: WorkAggregate] = [:]

    mutating func take(_ changes: EngineChanges) {
        for key in changes.deletes { records[key] = nil }
        for (key, value) in changes.upserts { records[key] = value }
        for aggregate in changes.works { aggregates[aggregate.work] = try! WorkAggregate(jsonLine: aggregate.jsonLine()) }
    }

    func restore(rules: AggregationRules) throws -> PartitionEngine {
        let engine = PartitionEngine(rules: rules)
        for aggregate in aggregates.values { engine.restoreAggregate(aggregate) }
        for (key, value) in records.sorted(by: { $0.key < $1.key }) { try engine.restore(key: key, value: value) }
        engine.discardChanges()
        return engine
    }
}
