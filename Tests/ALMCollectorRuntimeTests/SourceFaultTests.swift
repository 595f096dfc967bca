@testable import ALMCollectorRuntime
import ALMCollectors
import ALMCore
import ALMTestSupport
import DevBroker
import Foundation
import Kafka
import MetricsTestKit
import Testing

/// A pull collector whose source misbehaves, against a real HTTP server and the dev broker: a source
/// that hangs is timed out and the round goes on, one that answers garbage trips the breaker.
@Suite("pull collectors facing a hanging or garbage-speaking source", .serialized, .timeLimit(.minutes(5)))
struct SourceFaultTests {
    static let works = (1...6).map { "10.5555/fault.\($0)" }

    func settings(broker: DevBroker, server: FixtureServer, state: URL, metrics: TestMetrics) -> PullCollectorSettings {
        var settings = PullCollectorSettings(source: PullSource.all["crossref"]!, kafka: broker.kafka, declarations: declarations,
                                             stateDirectory: state)
        settings.baseURL = server.baseURL
        settings.once = true
        settings.settleSeconds = 1
        settings.fetch.timeoutSeconds = 2
        settings.fetch.retry = RetryPolicy(maxAttempts: 3, baseDelaySeconds: 0.01, maxDelaySeconds: 0.05)
        settings.metricsFactory = metrics
        return settings
    }

    @Test("a source that hangs: each hung request times out after 2 s, a retry that is answered recovers, a work that always hangs fails alone and the round goes on")
    func hangingSource() async throws {
        let answer = try Data(contentsOf: sharedDirectory.appendingPathComponent("fixtures/crossref/rest-work.json"))
        let alwaysHangs = "/works/" + Self.works[0]
        try await withPipelineBroker { broker in
            try await broker.register(try Self.works.map { try WorkRecord(doi: $0) })
            try await FixtureServer.with(respond: { request, count in
                // Every work's first request hangs; the first work's hang for ever (longer than any timeout).
                request.target == alwaysHangs || count == 1
                    ? FixtureResponse(body: Array(answer), delay: .seconds(8))
                    : FixtureResponse(body: Array(answer))
            }) { server in
                try await withTemporaryDirectory { state in
                    let metrics = TestMetrics()
                    let summary = try await PullCollector(settings: settings(broker: broker, server: server, state: state, metrics: metrics),
                                                          logger: testLogger).run()
                    #expect(summary.failures == 1, "only the work that never answers fails")
                    #expect(summary.worksFetched == 5)
                    #expect(Set(summary.fetchedWorks) == Set(Self.works.dropFirst()))
                    // A loaded machine may time out an answered retry too (there are 3 attempts): only lower bounds
                    // on the others, exact numbers for the work that always hangs.
                    let asked = Dictionary(grouping: server.requests, by: \.target).mapValues(\.count)
                    #expect(asked[alwaysHangs] == 3, "the work that always hangs is asked 3 times, then given up")
                    #expect(Self.works.dropFirst().allSatisfy { (asked["/works/" + $0] ?? 0) >= 2 }, "a hang, then a retry: \(asked)")
                    let source = [("source", "crossref")]
                    #expect(try metrics.expectCounter("alm_collector_errors_total", source + [("class", "timeout")]).totalValue >= 8,
                            "5 first attempts and the first work's 3")
                    let events = decoded(try await broker.readAll(topic: "alm.raw.crossref"))
                    #expect(Set(events.map(\.work)) == Set(Self.works.dropFirst()))
                    #expect(events.allSatisfy { $0.metric == "cites" && $0.value == 72 })
                    // The hung work is due again within the hour, not after the regular interval.
                    let due = try ScheduleStore(directory: state, source: "crossref").load()
                    let now = Date().timeIntervalSince1970
                    #expect(try #require(due[Self.works[0]]) <= now + 3600)
                    #expect(try #require(due[Self.works[1]]) > now + 3600)
                }
            }
        }
    }

    @Test("a source that answers 200 with garbage trips the breaker after 3 unreadable answers: the round stops asking, nothing is produced")
    func garbageTripsTheBreaker() async throws {
        try await withPipelineBroker { broker in
            try await broker.register(try Self.works.map { try WorkRecord(doi: $0) })
            try await FixtureServer.with(respond: { _, _ in
                FixtureResponse(headers: [("Content-Type", "text/html")], body: Array("<html><body>Service Unavailable</body></html>".utf8))
            }) { server in
                try await withTemporaryDirectory { state in
                    let metrics = TestMetrics()
                    var collector = settings(broker: broker, server: server, state: state, metrics: metrics)
                    collector.fetch.breakerThreshold = 3
                    collector.fetch.breakerPauseSeconds = 600
                    let summary = try await PullCollector(settings: collector, logger: testLogger).run()
                    #expect(server.requests.count == 3, "garbage is not retried; the third opened the breaker")
                    #expect(summary.failures == 3 && summary.worksFetched == 0)
                    let source = [("source", "crossref")]
                    #expect(try metrics.expectGauge("alm_collector_paused", source).lastValue == 1)
                    #expect(try metrics.expectCounter("alm_collector_errors_total", source + [("class", "malformed_response")]).totalValue == 3)
                    #expect(decoded(try await broker.readAll(topic: "alm.raw.crossref")).isEmpty)
                    // Garbage now is garbage in an hour: those works wait for their regular time.
                    let due = try ScheduleStore(directory: state, source: "crossref").load()
                    #expect(due.count == 3)
                    #expect(due.values.allSatisfy { $0 > Date().timeIntervalSince1970 + 3600 })
                }
            }
        }
    }
}
