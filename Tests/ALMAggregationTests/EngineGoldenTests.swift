@testable import ALMAggregation
import ALMCore
import Foundation
import Testing

func event(_ json: String) -> RawEvent {
    try! RawEventDecoder.decode(json)
}

func usage(_ id: String, work: String = "10.1/b", session: String, at time: String, agent: String = "Mozilla/5.0 Firefox/133.0") -> RawEvent {
    event(#"{"schema_version":1,"kind":"event","id":"\#(id)","source":"accesslog","work":"\#(work)","metric":"downloads","value":1,"occurred_at":"\#(time)","observed_at":"\#(time)","session":"\#(session)","agent":"\#(agent)"}"#)
}

let robotsFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("data/counter-robots/COUNTER_Robots_list.json")
let counterRobots = try! RobotMatcher(listJSON: Data(contentsOf: robotsFile))

/// A fixed input whose aggregates were computed by hand from the rules of design.md.
let goldenInput: [RawEvent] = [
    // A Wikipedia reference whose removal arrives before its addition: the removal is newer, so it decides.
    event(#"{"schema_version":1,"kind":"event","id":"wikipedia:en:Malaria:10.1/a","source":"wikipedia","work":"10.1/a","metric":"references","value":1,"action":"delete","occurred_at":"2026-03-09T08:00:00Z","observed_at":"2026-03-09T08:00:03Z"}"#),
    event(#"{"schema_version":1,"kind":"event","id":"wikipedia:en:Malaria:10.1/a","source":"wikipedia","work":"10.1/a","metric":"references","value":1,"action":"add","occurred_at":"2026-03-02T11:00:00Z","observed_at":"2026-03-02T11:00:03Z"}"#),
    event(#"{"schema_version":1,"kind":"event","id":"wikipedia:de:Malaria:10.1/a","source":"wikipedia","work":"https://doi.org/10.1/A","metric":"references","value":1,"occurred_at":"2026-03-05T00:00:00Z","observed_at":"2026-03-05T00:00:01Z"}"#),
    // A newer total, then an older one arriving late: the newer (31) stays.
    event(#"{"schema_version":1,"kind":"total","source":"crossref","work":"10.1/a","metric":"cites","value":31,"observed_at":"2026-03-02T00:00:00Z"}"#),
    event(#"{"schema_version":1,"kind":"total","source":"crossref","work":"10.1/a","metric":"cites","value":25,"observed_at":"2026-02-01T00:00:00Z"}"#),
    // A monthly count restated (120 -> 130), and another month: 130 + 50.
    event(#"{"schema_version":1,"kind":"count","source":"counter","work":"10.1/a","metric":"downloads","value":120,"period":"2026-01","observed_at":"2026-02-03T06:00:00Z"}"#),
    event(#"{"schema_version":1,"kind":"count","source":"counter","work":"10.1/a","metric":"downloads","value":130,"period":"2026-01","observed_at":"2026-02-10T06:00:00Z"}"#),
    event(#"{"schema_version":1,"kind":"count","source":"counter","work":"10.1/a","metric":"downloads","value":50,"period":"2026-02","observed_at":"2026-03-03T06:00:00Z"}"#),
    // A double-click burst in session s1: 10:00:00, :10, :40 (30 s after :10, inclusive) -> only :40
    // counts; 10:01:20 is 40 s later, so :40 and 10:01:20 both count. A duplicate delivery changes nothing.
    usage("r1", session: "s1", at: "2026-03-02T10:00:00Z"),
    usage("r2", session: "s1", at: "2026-03-02T10:00:10Z"),
    usage("r3", session: "s1", at: "2026-03-02T10:00:40Z"),
    usage("r4", session: "s1", at: "2026-03-02T10:01:20Z"),
    usage("r2", session: "s1", at: "2026-03-02T10:00:10Z"),
    // Another session counts on its own; a robot is not counted at all.
    usage("r5", session: "s3", at: "2026-03-02T10:00:05Z"),
    usage("r6", session: "s2", at: "2026-03-02T11:00:00Z", agent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
]

@Suite("aggregation: golden input")
struct EngineGoldenTests {
    @Test("hand-computed aggregates for deletes before adds, late totals, restated counts, bursts and robots")
    func golden() {
        let engine = PartitionEngine(rules: AggregationRules(robots: counterRobots))
        for record in goldenInput { engine.apply(record) }

        let a = engine.aggregate("10.1/a")
        #expect(a?.sources == ["wikipedia": ["references": 1], "crossref": ["cites": 31], "counter": ["downloads": 180]])
        #expect(a?.categories == [.viewed: 180, .discussed: 1, .cited: 31])
        #expect(a?.byMonth == ["2026-01": [.viewed: 130], "2026-02": [.viewed: 50], "2026-03": [.discussed: 1, .cited: 31]])
        #expect(a?.firstSeen?.text == "2026-02-01T00:00:00Z")
        #expect(a?.lastSeen?.text == "2026-03-09T08:00:00Z")

        let b = engine.aggregate("10.1/b")
        #expect(b?.sources == ["accesslog": ["downloads": 3]])
        #expect(b?.categories == [.viewed: 3])
        #expect(b?.byMonth == ["2026-03": [.viewed: 3]])
        #expect(b?.firstSeen?.text == "2026-03-02T10:00:00Z")
        #expect(b?.lastSeen?.text == "2026-03-02T11:00:00Z", "a robot's request is seen, though not counted")

        #expect(String(decoding: a!.jsonLine(), as: UTF8.self) == #"{"work":"10.1/a","sources":{"counter":{"downloads":180},"crossref":{"cites":31},"wikipedia":{"references":1}},"categories":{"viewed":180,"saved":0,"discussed":1,"cited":31,"recommended":0},"by_month":{"2026-01":{"viewed":130},"2026-02":{"viewed":50},"2026-03":{"discussed":1,"cited":31}},"first_seen":"2026-02-01T00:00:00Z","last_seen":"2026-03-09T08:00:00Z"}"#)
    }

    @Test("the double-click window is inclusive at 30 s and exclusive just after")
    func windowBoundary() {
        let engine = PartitionEngine(rules: AggregationRules())
        engine.apply(usage("x1", session: "s", at: "2026-03-02T10:00:00Z"))
        engine.apply(usage("x2", session: "s", at: "2026-03-02T10:00:30Z"))
        #expect(engine.aggregate("10.1/b")?.sources["accesslog"]?["downloads"] == 1, "30 s apart: one burst")
        engine.apply(usage("x3", session: "s", at: "2026-03-02T10:01:00.000001Z"))
        #expect(engine.aggregate("10.1/b")?.sources["accesslog"]?["downloads"] == 2, "30.000001 s apart: two")
    }

    @Test("requests at the same instant form one burst whatever their ids")
    func sameInstant() {
        let engine = PartitionEngine(rules: AggregationRules())
        engine.apply(usage("b", session: "s", at: "2026-03-02T10:00:00Z"))
        engine.apply(usage("a", session: "s", at: "2026-03-02T10:00:00Z"))
        #expect(engine.aggregate("10.1/b")?.sources["accesslog"]?["downloads"] == 1)
    }

    @Test("a delete and an add at the same instant: the delete wins")
    func deleteWinsTies() {
        let add = event(#"{"schema_version":1,"kind":"event","id":"p","source":"bluesky","work":"10.1/c","metric":"mentions","value":1,"action":"add","occurred_at":"2026-03-02T10:00:00Z","observed_at":"2026-03-02T10:00:00Z"}"#)
        let delete = event(#"{"schema_version":1,"kind":"event","id":"p","source":"bluesky","work":"10.1/c","metric":"mentions","value":1,"action":"delete","occurred_at":"2026-03-02T10:00:00Z","observed_at":"2026-03-02T10:00:09Z"}"#)
        for order in [[add, delete], [delete, add]] {
            let engine = PartitionEngine(rules: AggregationRules())
            order.forEach { engine.apply($0) }
            #expect(engine.aggregate("10.1/c")?.sources.isEmpty == true)
        }
    }

    @Test("totals tie on observed_at: the larger value wins")
    func totalTie() {
        let small = event(#"{"schema_version":1,"kind":"total","source":"openalex","work":"10.1/d","metric":"cites","value":7,"observed_at":"2026-03-02T00:00:00Z"}"#)
        let large = event(#"{"schema_version":1,"kind":"total","source":"openalex","work":"10.1/d","metric":"cites","value":9,"observed_at":"2026-03-02T00:00:00+00:00"}"#)
        for order in [[small, large], [large, small]] {
            let engine = PartitionEngine(rules: AggregationRules())
            order.forEach { engine.apply($0) }
            #expect(engine.aggregate("10.1/d")?.sources["openalex"]?["cites"] == 9)
        }
    }

    @Test("category overrides per source, and metrics without a category are counted per source only")
    func categories() {
        var map = CategoryMap()
        map.overrides["reddit"] = ["comments": .recommended, "score": nil]
        let engine = PartitionEngine(rules: AggregationRules(categories: map))
        engine.apply(event(#"{"schema_version":1,"kind":"total","source":"reddit","work":"10.1/e","metric":"comments","value":4,"observed_at":"2026-03-02T00:00:00Z"}"#))
        engine.apply(event(#"{"schema_version":1,"kind":"total","source":"reddit","work":"10.1/e","metric":"score","value":12,"observed_at":"2026-03-02T00:00:00Z"}"#))
        engine.apply(event(#"{"schema_version":1,"kind":"total","source":"hypothesis","work":"10.1/e","metric":"comments","value":2,"observed_at":"2026-03-02T00:00:00Z"}"#))
        let aggregate = engine.aggregate("10.1/e")
        #expect(aggregate?.categories == [.recommended: 4, .discussed: 2])
        #expect(aggregate?.sources["reddit"] == ["comments": 4, "score": 12])
    }

    @Test("the COUNTER-Robots list loads all 327 patterns and matches case-insensitively")
    func robots() throws {
        #expect(counterRobots.patternCount == 327)
        #expect(counterRobots.isRobot("Mozilla/5.0 (compatible; GOOGLEBOT/2.1)"))
        #expect(counterRobots.isRobot("python-requests/2.31"))
        #expect(counterRobots.isRobot(""), "^.?$ matches an empty agent")
        #expect(!counterRobots.isRobot("Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"))
        let digest = try Data(contentsOf: robotsFile)
        let shared = robotsFile.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data/COUNTER-Robots/COUNTER_Robots_list.json")
        if let original = try? Data(contentsOf: shared) {
            #expect(digest == original, "data/counter-robots is a byte-for-byte copy of shared's list")
        }
    }
}

@Suite("aggregate lines")
struct AggregateLineTests {
    @Test("a line read back gives the same aggregate and the same bytes")
    func roundTrip() throws {
        let engine = PartitionEngine(rules: AggregationRules(robots: counterRobots))
        goldenInput.forEach { engine.apply($0) }
        for aggregate in engine.allAggregates() {
            let parsed = try WorkAggregate(jsonLine: aggregate.jsonLine())
            #expect(parsed == aggregate)
            #expect(parsed.jsonLine() == aggregate.jsonLine())
        }
    }
}
