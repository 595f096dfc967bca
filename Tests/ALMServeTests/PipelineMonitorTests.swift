@testable import ALMCollectorRuntime
import ALMRuntime
@testable import ALMServe
import ALMTestSupport
import Foundation
@testable import Kafka
import Testing

@Suite("pipeline health from the raw topics, alm.dlq and alm.status") struct PipelineMonitorTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)  // 2026-09-21T13:33:20Z

    func record(_ topic: String, secondsAgo: Double, headers: [KafkaHeader] = [], key: String? = nil, value: [UInt8] = [1]) -> ConsumerRecord {
        ConsumerRecord(topic: topic, partition: 0, offset: 0, key: key.map { Array($0.utf8) }, value: value, headers: headers,
                       timestampMs: Int64((Self.now.timeIntervalSince1970 - secondsAgo) * 1000))
    }

    @Test("events per source in the last 24 h and minute, the last event, dead letters by their source, collector reports")
    func tallies() throws {
        let monitor = PipelineMonitor(declarations: declarations, stateDirectory: nil, kafka: KafkaConfiguration(), logger: testLogger,
                                      clock: { Self.now })
        var batch = ConsumerBatch()
        batch.records = [
            record("alm.raw.crossref", secondsAgo: 10), record("alm.raw.crossref", secondsAgo: 3_600),
            record("alm.raw.crossref", secondsAgo: 2 * 86_400),  // older than a day: seen, not in the 24 h count
            record("alm.raw.wikipedia", secondsAgo: 30),
            record("alm.dlq", secondsAgo: 5, headers: [KafkaHeader(name: "alm.source.topic", string: "alm.raw.crossref")]),
            record("alm.dlq", secondsAgo: 5, headers: [KafkaHeader(name: "alm.origin", string: "alm.raw.wikipedia[3]@17")]),
            record("alm.dlq", secondsAgo: 5, headers: [KafkaHeader(name: "alm.origin", string: "events.jsonl:4")]),
        ]
        let board = CollectorStatusBoard()
        let metrics = CollectorMetrics(source: "crossref", factory: board)
        metrics.requests.increment(by: 7)
        metrics.error("timeout")
        metrics.error("timeout")
        metrics.error("server")
        metrics.paused.record(1)
        let status = board.status(source: "crossref", instance: "host-1", startedAt: Self.now.addingTimeInterval(-600), now: Self.now)
        #expect(status.requests == 7 && status.errors == ["timeout": 2, "server": 1] && status.breaker == "open")
        let stale = board.status(source: "crossref", instance: "host-0", startedAt: Self.now, now: Self.now.addingTimeInterval(-3_600))
        for report in [status, stale] {
            batch.records.append(record("alm.status", secondsAgo: 1, key: "crossref/\(report.instance)",
                                        value: Array(try JSONEncoder().encode(report))))
        }
        monitor.absorb(batch)

        let sources = Dictionary(uniqueKeysWithValues: monitor.sources().map { ($0.source, $0) })
        let crossref = try #require(sources["crossref"])
        #expect(crossref.recordsSeen == 3)
        #expect(crossref.eventsLast24h == 2)
        #expect(crossref.eventsLastMinute == 1)
        #expect(crossref.lastEventAt == Date(timeIntervalSince1970: Self.now.timeIntervalSince1970 - 10))
        #expect(crossref.deadLetters == 1 && crossref.deadLettersLast24h == 1)
        #expect(crossref.collectors.map(\.instance) == ["host-0", "host-1"])
        #expect(crossref.breaker(now: Self.now) == "open", "the fresh report decides; the stale one is ignored")
        #expect(sources["wikipedia"]?.deadLetters == 1)
        #expect(sources["wikipedia"]?.breaker(now: Self.now) == nil, "no collector of it reports")
        #expect(sources[PipelineMonitor.unknownSource]?.deadLetters == 1)
        #expect(sources["pmc"]?.recordsSeen == 0, "every declared source is listed")
        #expect(monitor.eventsPerMinute(source: "crossref", minutes: 61).reduce(0, +) == 2)
    }
}
