@testable import ALMCollectorRuntime
import ALMCollectors
import ALMCore
import ALMTestSupport
import AsyncHTTPClient
import DevBroker
import Foundation
import Kafka
import MetricsTestKit
import Testing
import Yams

@Suite("pull collectors against a local fixture server and the dev broker", .serialized, .timeLimit(.minutes(5)))
struct PullCollectorTests {
    func settings(_ source: String, broker: DevBroker, server: FixtureServer, state: URL) -> PullCollectorSettings {
        var settings = PullCollectorSettings(source: PullSource.all[source]!, kafka: broker.kafka, declarations: declarations,
                                             stateDirectory: state)
        settings.baseURL = server.baseURL
        settings.once = true
        settings.settleSeconds = 1
        settings.fetch.userAgent = "alm-test (mailto:test@example.org)"
        return settings
    }

    @Test("every pull source: the recorded answer, served over HTTP, becomes the README's events in alm.raw.<source>")
    func everySource() async throws {
        let answers: [String: String] = [
            "/works/10.1371/journal.pone.0033693": "crossref/rest-work.json",
            "/works/doi:10.7717/peerj.4375": "openalex/work-by-doi.json",
            "/MED/17183631/citations?format=json&pageSize=1000": "europepmc/citations.json",
            "/dois?query=uid%3A%2210.7272%2Fq6g15xs4%22&detail=true": "datacite/doi-detail.json",
            "/search.json?q=%2210.1371%2Fjournal.pone.0008776%22&limit=100": "reddit/search.json",
            "/pmc/utils/entrez2pmcciting.cgi?view=xml&id=17183631": "pubmed/pmc-citing.xml",
            "/citations/10.1108/jd-12-2013-0166": "opencitations",
            wikipediaSearch: "wikipedia",
            "/api/search?limit=200&uri=https%3A%2F%2Fdoi.org%2F10.1371%2Fjournal.pone.0008776": "hypothesis",
        ]
        // Cassette bodies and a built annotation, where the recording is not a plain body.
        let openCitations = try cassetteBody("opencitations/coci-citations.cassette.yml")
        let wikipediaPages = try cassetteBodies("wikipedia/search-doi.cassette.yml")
        let annotation = Array(#"{"total":1,"rows":[{"id":"Qm9vaDZ0aGlz","created":"2026-02-11T09:15:02.412867+00:00","uri":"https://doi.org/10.1371/journal.pone.0008776","links":{"html":"https://hypothes.is/a/Qm9vaDZ0aGlz"}}]}"#.utf8)
        try await withPipelineBroker { broker in
            try await broker.register([
                try WorkRecord(doi: "10.1371/journal.pone.0033693"), try WorkRecord(doi: "10.7717/peerj.4375"),
                try WorkRecord(doi: "10.1371/journal.pone.0000001", pmid: "17183631"), try WorkRecord(doi: "10.7272/q6g15xs4"),
                try WorkRecord(doi: "10.1371/journal.pone.0008776"), try WorkRecord(doi: "10.1108/jd-12-2013-0166"),
            ])
            try await FixtureServer.with(respond: { request, _ in
                // The recorded search is 14 pages of 50 hits: page n answers `sroffset=50n`.
                let page = request.target.hasPrefix(wikipediaSearch)
                    ? request.target.split(separator: "&").first { $0.hasPrefix("sroffset=") }.flatMap { Int($0.dropFirst(9)) }.map { $0 / 50 } ?? 0
                    : nil
                return switch page.map({ _ in "wikipedia" }) ?? answers[request.target] {
                case "opencitations": FixtureResponse(body: openCitations)
                case "wikipedia": page.flatMap { wikipediaPages.indices.contains($0) ? FixtureResponse(body: wikipediaPages[$0]) : nil }
                    ?? FixtureResponse(status: 404)
                case "hypothesis": FixtureResponse(body: annotation)
                case let path?: FixtureResponse.file(path)
                case nil: FixtureResponse(status: 404)
                }
            }) { server in
                try await withTemporaryDirectory { state in
                    var fetched: [String: Int] = [:]
                    for source in PullSource.all.keys.sorted() {
                        let summary = try await PullCollector(settings: settings(source, broker: broker, server: server, state: state),
                                                              logger: testLogger).run()
                        fetched[source] = summary.worksFetched
                    }
                    #expect(server.requests.allSatisfy { $0.userAgent == "alm-test (mailto:test@example.org)" })
                    #expect(Set(answers.keys).isSubset(of: server.requests.map(\.target)), "each source asked its question")
                    let expectedRequests = 6 * 7 + 2 + 13  // 6 works × 7 sources asked by DOI; 1 with a PMID × europepmc, pubmed; 13 more search pages
                    #expect(server.requests.count == expectedRequests, "every work once per source, 404s not retried")
                    #expect(fetched == Dictionary(uniqueKeysWithValues: PullSource.all.keys.map { ($0, 1) }),
                            "only the works a source answers about (404s are failures, logged)")

                    let crossref = decoded(try await broker.readAll(topic: "alm.raw.crossref"))
                    #expect(crossref.filter { $0.work == "10.1371/journal.pone.0033693" }.map(\.value) == [72])
                    let openalex = decoded(try await broker.readAll(topic: "alm.raw.openalex"))
                    #expect(openalex.filter { $0.work == "10.7717/peerj.4375" }.map(\.value) == [394])
                    let europepmc = decoded(try await broker.readAll(topic: "alm.raw.europepmc"))
                    #expect(europepmc.filter { $0.work == "10.1371/journal.pone.0000001" && $0.metric == "cites" }.count == 23)
                    let datacite = decoded(try await broker.readAll(topic: "alm.raw.datacite"))
                    #expect(Dictionary(uniqueKeysWithValues: datacite.map { ($0.metric, $0.value) }) == ["views": 593, "downloads": 62, "cites": 0])
                    let reddit = decoded(try await broker.readAll(topic: "alm.raw.reddit"))
                    #expect(reddit.filter { $0.kind == .event }.count == 3)
                    let pubmed = decoded(try await broker.readAll(topic: "alm.raw.pubmed"))
                    #expect(pubmed.count == 12)
                    #expect(pubmed.allSatisfy { $0.work == "10.1371/journal.pone.0000001" })
                    let opencitations = decoded(try await broker.readAll(topic: "alm.raw.opencitations"))
                    #expect(opencitations.count == 20 && opencitations.allSatisfy { $0.work == "10.1108/jd-12-2013-0166" })
                    let wiki = decoded(try await broker.readAll(topic: "alm.raw.wikipedia"))
                    #expect(wiki.count == 627 && Set(wiki.compactMap(\.id)).count == 627, "14 pages, 677 hits, 627 distinct pages")
                    #expect(wiki.allSatisfy { $0.metric == "references" && $0.work == "10.1371/journal.pone.0008776" })
                    let annotations = decoded(try await broker.readAll(topic: "alm.raw.hypothesis"))
                    #expect(annotations.map(\.id) == ["hypothesis:Qm9vaDZ0aGlz"])
                }
            }
        }
    }

    @Test("wikipedia searches each configured language; a language that fails is asked again within the hour, the others' pages are sent")
    func wikipediaLanguages() async throws {
        let doi = "10.1371/journal.pone.0008776"
        @Sendable func answer(_ titles: [String]) -> [UInt8] {
            let hits = titles.map { #"{"ns":0,"title":"\#($0)","timestamp":"2025-03-0\#($0.count % 9 + 1)T10:00:00Z"}"# }
            return Array(#"{"batchcomplete":"","query":{"searchinfo":{"totalhits":\#(titles.count)},"search":[\#(hits.joined(separator: ","))]}}"#.utf8)
        }
        try await withPipelineBroker { broker in
            try await broker.register([try WorkRecord(doi: doi)])
            try await FixtureServer.with(respond: { request, _ in
                switch request.target.split(separator: "/").first {
                case "en": FixtureResponse(body: answer(["Placebo", "Homeopathy"]))
                case "de": FixtureResponse(body: answer(["Placebo"]))
                default: FixtureResponse(status: 503)  // fr
                }
            }) { server in
                try await withTemporaryDirectory { state in
                    var wiki = settings("wikipedia", broker: broker, server: server, state: state)
                    wiki.baseURL = server.baseURL + "/{language}"
                    wiki.languages = ["en", "de", "fr"]
                    wiki.fetch.retry.maxAttempts = 1
                    let before = Date().timeIntervalSince1970
                    let summary = try await PullCollector(settings: wiki, logger: testLogger).run()
                    #expect(summary.worksFetched == 1 && summary.failures == 1 && summary.eventsProduced == 3)
                    #expect(Set(server.requests.map { String($0.target.prefix(4)) }) == ["/en/", "/de/", "/fr/"])

                    let events = decoded(try await broker.readAll(topic: "alm.raw.wikipedia"))
                    #expect(Set(events.compactMap(\.id)) == ["wikipedia:en:Placebo:\(doi)", "wikipedia:en:Homeopathy:\(doi)",
                                                             "wikipedia:de:Placebo:\(doi)"])
                    #expect(Set(events.compactMap(\.subj)) == ["https://en.wikipedia.org/wiki/Placebo", "https://en.wikipedia.org/wiki/Homeopathy",
                                                               "https://de.wikipedia.org/wiki/Placebo"])
                    let due = try #require(try ScheduleStore(directory: state, source: "wikipedia").load()[doi])
                    #expect(due > before && due <= Date().timeIntervalSince1970 + 3600, "the failed language makes the work due within the hour")
                }
            }
        }
    }

    @Test("two instances in one group split the registry: no work is fetched by both, none is missed; a restart remembers")
    func twoInstancesSplitTheWorks() async throws {
        let works = try (1...40).map { try WorkRecord(doi: "10.5555/alm.\($0)") }
        try await withPipelineBroker { broker in
            try await broker.register(works)
            try await FixtureServer.with(respond: { request, _ in
                let doi = String(request.target.dropFirst("/works/".count))
                return FixtureResponse(body: Array(#"{"status":"ok","message":{"DOI":"\#(doi)","is-referenced-by-count":\#(doi.count)}}"#.utf8))
            }) { server in
                try await withTemporaryDirectory { dir in
                    func instance(_ name: String) -> PullCollectorSettings {
                        var settings = settings("crossref", broker: broker, server: server, state: dir.appendingPathComponent(name))
                        settings.settleSeconds = 6
                        return settings
                    }
                    let a = instance("a"), b = instance("b")
                    async let first = PullCollector(settings: a, logger: testLogger).run()
                    async let second = PullCollector(settings: b, logger: testLogger).run()
                    let (one, two) = try await (first, second)
                    #expect(!one.fetchedWorks.isEmpty && !two.fetchedWorks.isEmpty, "\(one.fetchedWorks.count) + \(two.fetchedWorks.count)")
                    #expect(Set(one.fetchedWorks).isDisjoint(with: two.fetchedWorks))
                    #expect(Set(one.fetchedWorks + two.fetchedWorks) == Set(works.map(\.doi)))
                    #expect(server.requests.count == 40)

                    // Run a again alone: it now owns every partition, but what it fetched is not due yet. (What
                    // is due lives in a's state directory, not in the group. A new group, because the dev
                    // broker can leave a group whose members all left at once unable to take a new member:
                    // docs/decisions/dev-broker.md.)
                    var alone = a
                    alone.groupID = "alm-collector-crossref-restarted"
                    let again = try await PullCollector(settings: alone, logger: testLogger).run()
                    #expect(Set(again.fetchedWorks) == Set(two.fetchedWorks), "only the works the other instance had")
                    let events = decoded(try await broker.readAll(topic: "alm.raw.crossref"))
                    #expect(Set(events.map(\.work)) == Set(works.map(\.doi)))
                    #expect(events.allSatisfy { $0.value == UInt64($0.work.count) })
                }
            }
        }
    }
}

/// The response bodies of a VCR cassette under the shared fixtures (`response.body.string`), in order.
func cassetteBodies(_ path: String) throws -> [[UInt8]] {
    let text = try String(contentsOf: sharedDirectory.appendingPathComponent("fixtures/" + path), encoding: .utf8)
    guard let interactions = (try Yams.load(yaml: text) as? [String: Any])?["http_interactions"] as? [[String: Any]] else {
        throw FixtureServerError()
    }
    return try interactions.map { interaction in
        guard let body = ((interaction["response"] as? [String: Any])?["body"] as? [String: Any])?["string"] as? String else {
            throw FixtureServerError()
        }
        return Array(body.utf8)
    }
}

func cassetteBody(_ path: String) throws -> [UInt8] {
    guard let first = try cassetteBodies(path).first else { throw FixtureServerError() }
    return first
}

let wikipediaSearch = "/w/api.php?action=query&list=search&format=json&srnamespace=0&srprop=timestamp&srinfo=totalhits&srlimit=500"
    + "&srsearch=%2210.1371%2Fjournal.pone.0008776%22"

@Suite("fetching: Retry-After and the circuit breaker against a real HTTP server", .timeLimit(.minutes(5)))
struct FetcherTests {
    @Test("a 429 with Retry-After: 2 is retried after two seconds, then succeeds")
    func retryAfter() async throws {
        try await FixtureServer.with(respond: { _, count in
            count == 1 ? FixtureResponse(status: 429, headers: [("Retry-After", "2")], body: Array("slow down".utf8))
                       : FixtureResponse(body: Array("ok".utf8))
        }) { server in
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let fetcher = SourceFetcher(source: "crossref", settings: FetchSettings(), client: client, logger: testLogger)
            let body = try await fetcher.fetch(server.baseURL + "/works/10.1/x")
            try await client.shutdown()
            #expect(body == Array("ok".utf8))
            let times = server.requests.map(\.at)
            #expect(times.count == 2)
            // At least the 2 s asked for; the backoff alone would have waited under 1 s (an upper bound
            // would only measure how busy the machine is).
            #expect(times[1] - times[0] >= .seconds(2), "waited \(times[1] - times[0])")
        }
    }

    @Test("a source failing again and again trips the breaker: requests stop, the error says paused")
    func breaker() async throws {
        try await FixtureServer.with(respond: { _, _ in FixtureResponse(status: 500) }) { server in
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            var settings = FetchSettings()
            settings.retry = RetryPolicy(maxAttempts: 2, baseDelaySeconds: 0.01, maxDelaySeconds: 0.05)
            settings.breakerThreshold = 5
            settings.breakerPauseSeconds = 600
            let metrics = TestMetrics()
            let fetcher = SourceFetcher(source: "crossref", settings: settings, client: client, logger: testLogger,
                                        metrics: CollectorMetrics(source: "crossref", factory: metrics))
            var errors: [FetchError] = []
            for index in 0..<6 {
                do {
                    _ = try await fetcher.fetch(server.baseURL + "/works/10.1/\(index)")
                } catch let error as FetchError {
                    errors.append(error)
                }
            }
            try await client.shutdown()
            #expect(server.requests.count == 5, "2 + 2 + 1 attempts, then the breaker is open")
            #expect(errors.count == 6)
            #expect(errors.prefix(2).allSatisfy { $0 == .status(500, url: $0.url) && $0.errorClass == "server" })
            #expect(errors.suffix(4).allSatisfy { $0.errorClass == "paused" }, "the fifth failure opened it mid-fetch")
            #expect(await fetcher.breakerTrips == 1)
            #expect(await fetcher.isPaused)
            let source = [("source", "crossref")]
            #expect(try metrics.expectCounter("alm_collector_requests_total", source).totalValue == 5)
            #expect(try metrics.expectCounter("alm_collector_errors_total", source + [("class", "server")]).totalValue == 5)
            #expect(try metrics.expectCounter("alm_collector_errors_total", source + [("class", "paused")]).totalValue == 4)
            #expect(try metrics.expectGauge("alm_collector_paused", source).lastValue == 1)
            #expect(try metrics.expectTimer("alm_collector_request_duration_seconds", source).values.count == 5)
        }
    }

    @Test("a 404 is not retried; a refused connection is a connection error")
    func noRetry() async throws {
        try await FixtureServer.with(respond: { _, _ in FixtureResponse(status: 404) }) { server in
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let fetcher = SourceFetcher(source: "crossref", settings: FetchSettings(), client: client, logger: testLogger)
            await #expect(throws: FetchError.status(404, url: server.baseURL + "/works/10.1/x")) {
                try await fetcher.fetch(server.baseURL + "/works/10.1/x")
            }
            #expect(server.requests.count == 1)
            var quick = FetchSettings()
            quick.retry = RetryPolicy(maxAttempts: 1)
            let impatient = HTTPClient.forCollectors(FetchSettings(connectTimeoutSeconds: 1))
            let refused = SourceFetcher(source: "crossref", settings: quick, client: impatient, logger: testLogger)
            do {
                _ = try await refused.fetch("http://127.0.0.1:1/x")
                Issue.record("expected a connection error")
            } catch let error as FetchError {
                #expect(error.errorClass == "connection")
            }
            try await impatient.shutdown()
            try await client.shutdown()
        }
    }
}

extension FetchError {
    var url: String {
        switch self {
        case .status(_, let url), .timeout(let url), .connection(let url, _), .bodyTooLarge(let url): url
        case .paused: ""
        }
    }
}
