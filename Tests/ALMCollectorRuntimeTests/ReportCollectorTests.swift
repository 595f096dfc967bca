import ALMCollectorRuntime
import ALMCollectors
import ALMCore
import ALMTestSupport
import AsyncHTTPClient
import DevBroker
import Foundation
import Kafka
import Testing

@Suite("report collectors: monthly reports from a local server", .serialized, .timeLimit(.minutes(5)))
struct ReportCollectorTests {
    @Test("PMC: each journal-month once, failures retried on the next run, credentials sent but never in errors")
    func pmcMonths() async throws {
        try await withPipelineBroker { broker in
            try await FixtureServer.with(respond: { request, _ in
                guard request.target.hasSuffix("&user=alm&password=hunter2") else { return FixtureResponse(status: 401) }
                if request.target.contains("year=2014&month=1&jrid=ajrccm") { return .file("pmc/usage-report-single-journal.xml") }
                if request.target.contains("year=2013&month=12") { return .file("pmc/usage-report-error.xml") }
                return FixtureResponse(status: 404)
            }) { server in
                try await withTemporaryDirectory { state in
                    func settings(restate: Int) -> ReportCollectorSettings {
                        var settings = ReportCollectorSettings(source: ReportSource.all["pmc"]!, targets: ["ajrccm"], firstMonth: ReportMonth("2013-12")!,
                                                               kafka: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]),
                                                               declarations: declarations, stateDirectory: state)
                        settings.baseURL = server.baseURL
                        settings.lastMonth = ReportMonth("2014-02")
                        settings.restateMonths = restate
                        settings.secretQuery = "user=alm&password=hunter2"
                        return settings
                    }
                    let first = try await ReportCollector(settings: settings(restate: 1), logger: testLogger).run()
                    #expect(first.fetched == ["ajrccm 2014-01"])
                    #expect(first.failures == 2, "2013-12: PMC's error reply; 2014-02: 404")
                    #expect(first.events == 6, "3 articles × views and downloads")
                    let second = try await ReportCollector(settings: settings(restate: 1), logger: testLogger).run()
                    #expect(second.fetched.isEmpty && second.failures == 2)
                    let months = server.requests.map { $0.target.contains("month=1&") ? "2014-01" : $0.target.contains("month=12") ? "2013-12" : "2014-02" }
                    #expect(months == ["2013-12", "2014-01", "2014-02", "2013-12", "2014-02"], "2014-01 is not asked again")
                    let third = try await ReportCollector(settings: settings(restate: 2), logger: testLogger).run()
                    #expect(third.fetched == ["ajrccm 2014-01"], "within the restatement window")

                    let events = decoded(try await broker.readAll(topic: "alm.raw.pmc"))
                    let first1772 = events.filter { $0.work == "10.1164/rccm.200612-1772oc" && $0.metric == "views" }
                    #expect(first1772.map(\.value) == [20, 20] && first1772.allSatisfy { $0.period?.text == "2014-01" })
                }
            }
        }
    }

    @Test("COUNTER SUSHI: one item report per customer and month, with the api key appended")
    func sushi() async throws {
        try await withPipelineBroker { broker in
            try await FixtureServer.with(respond: { request, _ in
                guard request.target.hasPrefix("/reports/ir?customer_id=cust-1&begin_date=2016-0"), request.target.hasSuffix("&api_key=k3y")
                else { return FixtureResponse(status: 400) }
                return FixtureResponse(body: Array((try? Data(contentsOf: sharedDirectory.appendingPathComponent("data/COUNTER-samples/r5.0.3/Sample-IR.json"))) ?? Data()))
            }) { server in
                try await withTemporaryDirectory { state in
                    var settings = ReportCollectorSettings(source: ReportSource.all["counter"]!, targets: ["cust-1"], firstMonth: ReportMonth("2016-01")!,
                                                           kafka: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]),
                                                           declarations: declarations, stateDirectory: state)
                    settings.baseURL = server.baseURL
                    settings.lastMonth = ReportMonth("2016-03")
                    settings.secretQuery = "api_key=k3y"
                    let summary = try await ReportCollector(settings: settings, logger: testLogger).run()
                    #expect(summary.fetched == ["cust-1 2016-01", "cust-1 2016-02", "cust-1 2016-03"])
                    #expect(summary.failures == 0)
                    let parsed = try CounterSUSHIJSONParser().events(
                        from: Array(try Data(contentsOf: sharedDirectory.appendingPathComponent("data/COUNTER-samples/r5.0.3/Sample-IR.json"))),
                        context: ResponseContext(work: nil, observedAt: currentTimestamp()))
                    #expect(summary.events == 3 * parsed.count)
                    #expect(decoded(try await broker.readAll(topic: "alm.raw.counter")).count == 3 * parsed.count)
                }
            }
        }
    }

    @Test("credentials appended to a request never appear in its error")
    func secretsStayOut() async throws {
        try await FixtureServer.with(respond: { _, _ in FixtureResponse(status: 404) }) { server in
            let client = HTTPClient.forCollectors(FetchSettings())
            let fetcher = SourceFetcher(source: "pmc", settings: FetchSettings(), client: client, logger: testLogger)
            do {
                _ = try await fetcher.fetch(server.baseURL + "/report?year=2014", secretQuery: "password=hunter2")
                Issue.record("expected a 404")
            } catch let error as FetchError {
                #expect(!error.description.contains("hunter2"))
                #expect(error.description.contains("/report?year=2014"))
            }
            #expect(server.requests.map(\.target) == ["/report?year=2014&password=hunter2"])
            try await client.shutdown()
        }
    }
}
