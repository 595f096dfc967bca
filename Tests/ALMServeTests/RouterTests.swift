import ALMAggregation
import ALMProcessor
import ALMServe
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import ALMTestSupport

@Suite("HTTP API routes") struct RouterTests {
    @Test("a work by DOI in any form: numbers, attention score, context")
    func oneWork() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try ServeFixture(directory: directory)
            try await fixture.application().test(.router) { client in
                for path in ["/api/v1/works/10.1234/abc", "/api/v1/works/10.1234/ABC", "/api/v1/works/doi:10.1234%2Fabc",
                             "/api/v1/works/https%3A%2F%2Fdoi.org%2F10.1234%2FABC"] {
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.status == .ok, "\(path)")
                        #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                        let body = try json(response.body)
                        #expect(body["work"] as? String == "10.1234/abc")
                        #expect(body["found"] as? Bool == true)
                        let sources = body["sources"] as? [String: [String: Int]]
                        #expect(sources?["crossref"]?["cites"] == 12)
                        #expect(sources?["bluesky"]?["discusses"] == 5)
                        let categories = body["categories"] as? [String: Int]
                        #expect(categories == ["viewed": 40, "saved": 0, "discussed": 8, "cited": 12, "recommended": 0])
                        #expect((body["by_month"] as? [String: [String: Int]])?["2026-03"]?["cited"] == 12)
                        #expect(body["first_seen"] as? String == "2026-01-04T10:00:00Z")
                        // Wikipedia 3 flat (3 pages count once) + 5 Bluesky posts x 0.25; citations and views weigh 0.
                        let attention = body["attention"] as? [String: Any]
                        #expect(attention?["score"] as? Double == 4.25)
                        let parts = attention?["parts"] as? [[String: Any]] ?? []
                        #expect(parts.count == 4)
                        let wikipedia = parts.first { $0["source"] as? String == "wikipedia" }
                        #expect(wikipedia?["mentions"] as? Int == 1)
                        #expect(wikipedia?["points"] as? Double == 3)
                        let context = body["context"] as? [String: Any]
                        #expect(context?["snapshot"] as? String == fixture.snapshotID)
                        #expect(context?["as_of"] as? String != nil)
                        #expect((context?["data_sources"] as? [[String: Any]])?.map { $0["source"] as? String }
                            == ["bluesky", "crossref", "pmc", "wikipedia"])
                        #expect((context?["window"] as? [String: String]) == ["from": "2026-01-04T10:00:00Z", "to": "2026-03-20T08:30:00Z"])
                        #expect((body["links"] as? [String: String])?["events"] == "/api/v1/works/10.1234%2Fabc/events")
                    }
                }
            }
        }
    }

    @Test("the score counts one mention per known author: four posts by one author weigh one post")
    func oneMentionPerAuthor() async throws {
        try await withTemporaryDirectory { directory in
            try await ServeFixture(directory: directory).application().test(.router) { client in
                try await client.execute(uri: "/api/v1/works/10.7777/social", method: .get) { response in
                    let body = try json(response.body)
                    #expect(body["authors"] as? [String: Int] == ["bluesky": 1])
                    let attention = body["attention"] as? [String: Any]
                    #expect(attention?["score"] as? Double == 0.25)
                    let part = (attention?["parts"] as? [[String: Any]])?.first
                    #expect(part?["value"] as? Int == 4)
                    #expect(part?["mentions"] as? Int == 1)
                }
            }
        }
    }

    @Test("a bad DOI is a 400 with a message; an unknown work a 404 with an empty, valid body")
    func badAndUnknown() async throws {
        try await withTemporaryDirectory { directory in
            try await ServeFixture(directory: directory).application().test(.router) { client in
                for path in ["/api/v1/works/not-a-doi", "/api/v1/works/11.1234/abc", "/api/v1/works/10.1234%ZZ"] {
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.status == .badRequest, "\(path)")
                        let error = try json(response.body)["error"] as? [String: Any]
                        #expect(error?["status"] as? Int == 400)
                        #expect((error?["message"] as? String)?.isEmpty == false)
                    }
                }
                try await client.execute(uri: "/api/v1/works/10.9999/nothing-here", method: .get) { response in
                    #expect(response.status == .notFound)
                    let body = try json(response.body)
                    #expect(body["work"] as? String == "10.9999/nothing-here")
                    #expect(body["found"] as? Bool == false)
                    #expect((body["sources"] as? [String: Any])?.isEmpty == true)
                    #expect(body["categories"] as? [String: Int] == ["viewed": 0, "saved": 0, "discussed": 0, "cited": 0, "recommended": 0])
                    #expect((body["attention"] as? [String: Any])?["score"] as? Double == 0)
                }
            }
        }
    }

    @Test("batches by GET and POST, as JSON and CSV; more than 1 000 ids is a 413")
    func batches() async throws {
        try await withTemporaryDirectory { directory in
            try await ServeFixture(directory: directory).application().test(.router) { client in
                try await client.execute(uri: "/api/v1/works?ids=10.1234/ABC,10.5555/xyz.1,10.9999/none,bogus", method: .get) { response in
                    #expect(response.status == .ok)
                    let body = try json(response.body)
                    #expect((body["works"] as? [[String: Any]])?.map { $0["work"] as? String } == ["10.1234/abc", "10.5555/xyz.1"])
                    #expect(body["missing"] as? [String] == ["10.9999/none"])
                    #expect((body["invalid"] as? [[String: String]])?.map { $0["id"] } == ["bogus"])
                }
                let post = ByteBuffer(string: #"{"ids": ["https://doi.org/10.5555/XYZ.1", "10.1000/a<b>&\"c#d?e"]}"#)
                try await client.execute(uri: "/api/v1/works", method: .post, body: post) { response in
                    #expect(response.status == .ok)
                    let works = try json(response.body)["works"] as? [[String: Any]]
                    #expect(works?.map { $0["work"] as? String } == ["10.5555/xyz.1", #"10.1000/a<b>&"c#d?e"#])
                }
                try await client.execute(uri: "/api/v1/works", method: .post, body: ByteBuffer(string: "[1,2")) { response in
                    #expect(response.status == .badRequest)
                }
                try await client.execute(uri: "/api/v1/works?ids=10.1234/abc,10.1000/a%3Cb%3E%26%22c%23d%3Fe", method: .get,
                                         headers: [.accept: "text/csv"]) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                    let lines = String(buffer: response.body).components(separatedBy: "\r\n")
                    #expect(lines[0] == "work,viewed,saved,discussed,cited,recommended,attention_score,first_seen,last_seen")
                    #expect(lines[1] == "10.1234/abc,40,0,8,12,0,4.25,2026-01-04T10:00:00Z,2026-03-20T08:30:00Z")
                    #expect(lines[2] == #""10.1000/a<b>&""c#d?e",0,0,2,0,0,0.50,,"#)
                }
                let tooMany = (0...1000).map { "10.1234/w\($0)" }
                try await client.execute(uri: "/api/v1/works", method: .post,
                                         body: ByteBuffer(string: #"{"ids": [""# + tooMany.joined(separator: #"",""#) + #""]}"#)) { response in
                    #expect(response.status == .contentTooLarge)
                }
                try await client.execute(uri: "/api/v1/works?ids=" + tooMany.joined(separator: ","), method: .get) { response in
                    #expect(response.status == .contentTooLarge)
                }
            }
        }
    }

    @Test("admin endpoints: 401 without the key or with a wrong one, run with it")
    func admin() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try ServeFixture(directory: directory)
            try await fixture.application().test(.router) { client in
                for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"], [HTTPField.Name("X-API-Key")!: "nope"]] {
                    for path in ["/admin/snapshot", "/admin/replay"] {
                        try await client.execute(uri: path, method: .post, headers: headers) { response in
                            #expect(response.status == .unauthorized)
                            #expect(response.headers[.wwwAuthenticate] != nil)
                        }
                    }
                }
                #expect(fixture.snapshots.withLock { $0 } == 0)
                #expect(fixture.replays.withLock { $0 }.isEmpty)

                try await client.execute(uri: "/admin/snapshot", method: .post,
                                         headers: [.authorization: "Bearer \(ServeFixture.adminKey)"]) { response in
                    #expect(response.status == .created)
                    let body = try json(response.body)
                    #expect(body["snapshot"] as? String == "snapshot-1")
                }
                let job = try await client.execute(uri: "/admin/replay?as_of=2026-02-01T00:00:00Z", method: .post,
                                                   headers: [HTTPField.Name("X-API-Key")!: ServeFixture.adminKey]) { response in
                    #expect(response.status == .accepted)
                    return try json(response.body)["id"] as? String ?? ""
                }
                var status = "running"
                for _ in 0..<100 where status == "running" {
                    try await Task.sleep(for: .milliseconds(20))
                    status = try await client.execute(uri: "/admin/jobs/\(job)", method: .get,
                                                      headers: [.authorization: "Bearer \(ServeFixture.adminKey)"]) { response in
                        try json(response.body)["status"] as? String ?? ""
                    }
                }
                #expect(status == "succeeded")
                #expect(fixture.replays.withLock { $0 } == ["2026-02-01T00:00:00Z"])
            }
        }
    }

    @Test("without a configured key every admin call is refused")
    func adminDisabled() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try ServeFixture(directory: directory)
            var settings = fixture.settings()
            settings.adminKeySHA256 = nil
            try await Application(router: buildRouter(settings: settings, services: fixture.services())).test(.router) { client in
                try await client.execute(uri: "/admin/snapshot", method: .post,
                                         headers: [.authorization: "Bearer \(ServeFixture.adminKey)"]) { response in
                    #expect(response.status == .unauthorized)
                }
            }
            #expect(fixture.snapshots.withLock { $0 } == 0)
        }
    }

    @Test("the badge: valid SVG with the score, ETag and Cache-Control, 304 on a match, valid for a work with no data")
    func badge() async throws {
        try await withTemporaryDirectory { directory in
            try await ServeFixture(directory: directory).application().test(.router) { client in
                let tag = try await client.execute(uri: "/badge/10.1234/abc.svg", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "image/svg+xml; charset=utf-8")
                    #expect(response.headers[.cacheControl] == "public, max-age=300")
                    let svg = String(buffer: response.body)
                    let (error, check) = XMLCheck.parse(svg)
                    #expect(error == nil)
                    #expect(check.elements.first == "svg")
                    #expect(svg.contains(">5</text>"), "the score 4.25 shown rounded up")
                    return response.headers[.eTag] ?? ""
                }
                #expect(tag.hasPrefix("\""))
                try await client.execute(uri: "/badge/10.1234/abc.svg", method: .get, headers: [.ifNoneMatch: tag]) { response in
                    #expect(response.status == .notModified)
                    #expect(response.body.readableBytes == 0)
                }
                try await client.execute(uri: "/badge/10.9999/unknown.svg", method: .get) { response in
                    #expect(response.status == .ok)
                    let svg = String(buffer: response.body)
                    #expect(XMLCheck.parse(svg).error == nil)
                    #expect(svg.contains(">0</text>"))
                }
                try await client.execute(uri: "/badge/not-a-doi.svg", method: .get) { response in
                    #expect(response.status == .badRequest)
                }
            }
        }
    }

    @Test("health, readiness, snapshots and the Prometheus metrics, whose labels never hold a DOI")
    func operations() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try ServeFixture(directory: directory)
            try await fixture.application().test(.router) { client in
                try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .ok)
                    let body = try json(response.body)
                    #expect(body["snapshot"] as? String == fixture.snapshotID)
                }
                try await client.execute(uri: "/api/v1/snapshots", method: .get) { response in
                    let body = try json(response.body)
                    #expect(body["current"] as? String == fixture.snapshotID)
                    let snapshots = body["snapshots"] as? [[String: Any]]
                    #expect(snapshots?.count == 1)
                    #expect(snapshots?.first?["works"] as? Int == 4)
                }
                try await client.execute(uri: "/api/v1/sources", method: .get) { #expect($0.status == .serviceUnavailable) }
                try await client.execute(uri: "/api/v1/works/10.1234/abc", method: .get) { #expect($0.status == .ok) }
                try await client.execute(uri: "/metrics", method: .get) { response in
                    let text = String(buffer: response.body)
                    #expect(text.contains(#"alm_http_requests_total{route="/api/v1/works/**",method="GET",status="2xx"} 1"#))
                    #expect(text.contains("alm_serve_works 4"))
                    #expect(!text.contains("10.1234"))
                }
            }
        }
    }

    @Test("rate limit per client: the request over the budget is a 429 with Retry-After; health checks are not limited")
    func rateLimit() async throws {
        try await withTemporaryDirectory { directory in
            try await ServeFixture(directory: directory).application(rateLimit: 3).test(.router) { client in
                for _ in 0..<3 {
                    try await client.execute(uri: "/badge/10.1234/abc.svg", method: .get) { #expect($0.status == .ok) }
                }
                try await client.execute(uri: "/api/v1/works/10.1234/abc", method: .get) { response in
                    #expect(response.status == .tooManyRequests)
                    #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
                }
                try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            }
        }
    }

    @Test("CORS answers configured origins only")
    func cors() async throws {
        try await withTemporaryDirectory { directory in
            try await ServeFixture(directory: directory).application(cors: ["https://journal.example"]).test(.router) { client in
                try await client.execute(uri: "/api/v1/works/10.1234/abc", method: .get, headers: [.origin: "https://journal.example"]) { response in
                    #expect(response.headers[.accessControlAllowOrigin] == "https://journal.example")
                }
                try await client.execute(uri: "/api/v1/works/10.1234/abc", method: .get, headers: [.origin: "https://evil.example"]) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.accessControlAllowOrigin] == nil)
                }
            }
        }
    }

    @Test("the dashboard and the work pages: HTML with the works, their badges and charts; hostile DOIs escaped")
    func pages() async throws {
        try await withTemporaryDirectory { directory in
            try await ServeFixture(directory: directory).application().test(.router) { client in
                try await client.execute(uri: "/", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    let page = String(buffer: response.body)
                    #expect(page.hasPrefix("<!DOCTYPE html>"))
                    #expect(page.contains(#"src="/badge/10.1234%2Fabc.svg""#))
                    #expect(page.contains(#"src="/badge/10.1000%2Fa%3Cb%3E%26%22c%23d%3Fe.svg""#))
                    #expect(!page.contains("a<b>"), "the DOI is escaped in text")
                    #expect(!page.contains("<script"))
                }
                try await client.execute(uri: "/works/10.1234%2Fabc", method: .get) { response in
                    #expect(response.status == .ok)
                    let page = String(buffer: response.body)
                    #expect(page.contains(#"data-category="viewed""#))
                    #expect(page.contains("/api/v1/works/10.1234%2Fabc/events"))
                }
                try await client.execute(uri: "/works/10.9999/none", method: .get) { #expect($0.status == .notFound) }
                try await client.execute(uri: "/works/nonsense", method: .get) { #expect($0.status == .badRequest) }
            }
        }
    }

    @Test("provenance: 503 without the processor's state, 404 for a work it does not hold, 400 for a bad cursor or limit")
    func provenanceErrors() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try ServeFixture(directory: directory)
            try await fixture.application().test(.router) { client in
                try await client.execute(uri: "/api/v1/works/10.1234/abc/events", method: .get) { #expect($0.status == .serviceUnavailable) }
            }
            let reader = try ProvenanceReader(stateDirectory: directory.appendingPathComponent("state"),
                                              rules: AggregationRules())
            try await fixture.application(provenance: reader).test(.router) { client in
                try await client.execute(uri: "/api/v1/works/10.9999/none/events", method: .get) { response in
                    #expect(response.status == .notFound)
                    let body = try json(response.body)
                    #expect(body["found"] as? Bool == false)
                    #expect((body["items"] as? [Any])?.isEmpty == true)
                }
                for query in ["cursor=not-a-cursor", "limit=0", "limit=1001"] {
                    try await client.execute(uri: "/api/v1/works/10.1234/abc/events?\(query)", method: .get) { response in
                        #expect(response.status == .badRequest, "\(query)")
                    }
                }
            }
        }
    }
}
