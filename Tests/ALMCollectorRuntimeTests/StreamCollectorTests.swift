import ALMAggregation
import ALMCollectorRuntime
import ALMCollectors
import ALMCore
import ALMTestSupport
import DevBroker
import Foundation
import Kafka
import MetricsTestKit
import Testing

/// An EventStreams page-links-change frame: page `Page_<n>` of the English Wikipedia adds a link to
/// `10.5555/alm.<n>`.
func linkFrame(_ n: Int, link: String? = nil) -> [UInt8] {
    let change: [String: Any] = [
        "meta": ["domain": "en.wikipedia.org", "dt": "2026-11-30T10:00:\(String(format: "%02d", n % 60))Z",
                 "stream": "mediawiki.page-links-change", "uri": "https://en.wikipedia.org/wiki/Page_\(n)"],
        "database": "enwiki", "page_id": n, "page_title": "Page_\(n)", "page_namespace": 0,
        "added_links": [["external": true, "link": link ?? "https://doi.org/10.5555/alm.\(n)"]],
    ]
    let data = String(decoding: try! JSONSerialization.data(withJSONObject: change), as: UTF8.self)
    return Array("id: f\(n)\nevent: message\ndata: \(data)\n\n".utf8)
}

/// Frames 1...count, from after the client's Last-Event-ID (`f<k>`), one every `pause`.
func linkStream(count: Int, pause: Duration, malformedAt: Int? = nil, otherLinks: [Int: String] = [:])
    -> @Sendable (FixtureServer.Request, Int) -> FixtureResponse {
    { request, _ in
        let after = request.lastEventID.flatMap { Int($0.dropFirst()) } ?? 0
        let frames = (after + 1..<count + 1).map { n in
            n == malformedAt ? Array("id: f\(n)\ndata: {not json\n\n".utf8) : linkFrame(n, link: otherLinks[n])
        }
        return FixtureResponse(headers: [("Content-Type", "text/event-stream")], chunks: frames, pauseBetweenChunks: pause)
    }
}

@Suite("stream collectors: EventStreams over a real HTTP server", .serialized, .timeLimit(.minutes(5)))
struct StreamCollectorTests {
    @Test("each added DOI link becomes a references event; a restart resumes after the last saved frame; a bad frame is skipped")
    func followAndResume() async throws {
        try await withPipelineBroker { broker in
            try await FixtureServer.with(respond: linkStream(count: 30, pause: .milliseconds(5), malformedAt: 7)) { server in
                try await withTemporaryDirectory { state in
                    var settings = StreamCollectorSettings.wikipediaLinks(kafka: broker.kafka, declarations: declarations, stateDirectory: state)
                    settings.url = server.baseURL + "/v2/stream/page-links-change"
                    settings.stopAtEnd = true
                    let metrics = TestMetrics()
                    settings.metricsFactory = metrics
                    let first = try await StreamCollector(settings: settings, logger: testLogger).run()
                    let counts: [Int] = [first.frames, first.events, first.malformedFrames, first.connections]
                    #expect(counts == [30, 29, 1, 1], "frames, events, malformed, connections")
                    let again = try await StreamCollector(settings: settings, logger: testLogger).run()
                    #expect(again.frames == 0 && again.events == 0, "nothing after f30")
                    #expect(server.requests.map(\.lastEventID) == [nil, "f30"])
                    let source = [("source", "wikipedia")]
                    #expect(try metrics.expectCounter("alm_collector_events_total", source).totalValue == 29)
                    #expect(try metrics.expectCounter("alm_collector_errors_total", source + [("class", "malformed_response")]).totalValue == 1)
                    #expect(try metrics.expectCounter("alm_collector_requests_total", source).totalValue == 2, "two connections")
                    #expect(try metrics.expectGauge("alm_collector_last_success_timestamp_seconds", source).lastValue ?? 0 > 1_700_000_000)

                    let events = decoded(try await broker.readAll(topic: "alm.raw.wikipedia"))
                    #expect(events.count == 29)
                    #expect(Set(events.map(\.work)) == Set((1...30).filter { $0 != 7 }.map { "10.5555/alm.\($0)" }))
                    #expect(events.allSatisfy { $0.metric == "references" && $0.action == .add && $0.id?.hasPrefix("wikipedia:en:Page_") == true })
                }
            }
        }
    }

    @Test("with the registry, only registered works are kept; the index knows each work's PMID, PMCID and arXiv id")
    func registeredOnly() async throws {
        try await withPipelineBroker { broker in
            try await broker.register(try (1...10).map { try WorkRecord(doi: "10.5555/alm.\($0)", pmid: "\(1000 + $0)") }
                + [try WorkRecord(doi: "10.5555/alm.99", pmcid: "PMC42", arxiv: "2101.00001v2")])
            let registry = try await RegistryIndex(kafka: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]),
                                                   partitions: 12, logger: testLogger)
            #expect(registry.count == 11)
            #expect(registry.doi(pmid: "1003") == "10.5555/alm.3")
            #expect(registry.doi(pmcid: "pmc42") == "10.5555/alm.99" && registry.doi(arxiv: "2101.00001") == "10.5555/alm.99")
            #expect(registry.doi(pmid: "999") == nil)
            // A work registered while the index runs is seen.
            try await broker.register([try WorkRecord(doi: "10.5555/alm.20")])
            let deadline = ContinuousClock.now + .seconds(20)
            while !registry.contains(doi: "10.5555/alm.20"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(registry.contains(doi: "10.5555/alm.20"))

            // Frame 31 links PMC42 and frame 32 an arXiv abstract: both name alm.99; frame 33 an unregistered PMID.
            let others = [31: "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC42/", 32: "https://arxiv.org/abs/2101.00001v3",
                          33: "https://pubmed.ncbi.nlm.nih.gov/999/"]
            try await FixtureServer.with(respond: linkStream(count: 33, pause: .milliseconds(2), otherLinks: others)) { server in
                try await withTemporaryDirectory { state in
                    var settings = StreamCollectorSettings.wikipediaLinks(kafka: broker.kafka, declarations: declarations, stateDirectory: state)
                    settings.url = server.baseURL + "/stream"
                    settings.stopAtEnd = true
                    settings.registry = registry
                    let summary = try await StreamCollector(settings: settings, logger: testLogger).run()
                    #expect(summary.frames == 33 && summary.events == 13, "alm.1 … alm.10, alm.20, and alm.99 twice through its PMCID and arXiv id")
                }
            }
            await registry.close()
            let events = decoded(try await broker.readAll(topic: "alm.raw.wikipedia"))
            #expect(Set(events.map(\.work)) == Set(((1...10).map { $0 } + [20, 99]).map { "10.5555/alm.\($0)" }))
            #expect(events.filter { $0.work == "10.5555/alm.99" }.compactMap(\.obj).sorted()
                    == ["https://arxiv.org/abs/2101.00001v3", "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC42/"], "obj keeps the link as written")
        }
    }

    @Test("alm collect wikipedia --stream killed with SIGKILL and restarted: it resumes from its cursor, and the counts have no duplicate",
          .enabled(if: FileManager.default.isExecutableFile(atPath: projectRoot.appendingPathComponent(".build/debug/alm").path),
                   "needs .build/debug/alm (make test builds it)"))
    func killAndResume() async throws {
        let frames = 400
        try await withPipelineBroker { broker in
            try await FixtureServer.with(respond: linkStream(count: frames, pause: .milliseconds(20))) { server in
                try await withTemporaryDirectory { state in
                    func alm() throws -> Process {
                        let process = Process()
                        process.executableURL = projectRoot.appendingPathComponent(".build/debug/alm")
                        process.arguments = ["collect", "wikipedia", "--stream", "--once", "--stream-url", server.baseURL + "/stream",
                                             "--state-dir", state.path, "--log-level", "error",
                                             "-X", "bootstrap.servers=\(broker.bootstrapServers)",
                                             "--topics", projectRoot.appendingPathComponent("topics.yaml").path]
                        process.standardOutput = FileHandle.nullDevice
                        try process.run()
                        return process
                    }
                    let killed = try alm()
                    // Kill it once it has saved a cursor (its first batch acknowledged), however slow the machine.
                    var watched = StreamCollectorSettings.wikipediaLinks(kafka: broker.kafka, declarations: declarations, stateDirectory: state)
                    watched.url = server.baseURL + "/stream"
                    let deadline = ContinuousClock.now + .seconds(60)
                    while (try? StreamCollector.resumePosition(of: watched)) == nil, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(killed.isRunning, "killed mid-stream")
                    kill(killed.processIdentifier, SIGKILL)
                    _ = await killed.exitStatus()
                    let resumed = try alm()
                    #expect(await resumed.exitStatus() == 0)

                    let resumedFrom = server.requests.last?.lastEventID.flatMap { Int($0.dropFirst()) }
                    #expect(server.requests.count == 2)
                    #expect((1..<frames).contains(resumedFrom ?? 0), "resumed from f\(resumedFrom ?? 0), not from the start or the end")

                    // Delivered at least once; counted exactly once.
                    let events = decoded(try await broker.readAll(topic: "alm.raw.wikipedia"))
                    #expect(events.count >= frames)
                    let engine = PartitionEngine(rules: AggregationRules())
                    events.forEach { engine.apply($0) }
                    let counted = engine.allAggregates().map { $0.sources["wikipedia"]?["references"] ?? 0 }
                    #expect(counted.count == frames && counted.allSatisfy { $0 == 1 })
                }
            }
        }
    }
}
