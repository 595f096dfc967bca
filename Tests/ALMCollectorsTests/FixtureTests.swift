@testable import ALMCollectors
import ALMCore
import Testing

/// Each recorded response parses to the values ../shared/fixtures/README.md states.
@Suite("collectors: recorded responses")
struct FixtureTests {
    @Test("crossref REST work: is-referenced-by-count 72 is the cites total")
    func crossrefWork() throws {
        let events = try parse(CrossrefWorkParser(), "crossref/rest-work.json", work: nil)
        #expect(events.count == 1)
        #expect(events[0].work == "10.1371/journal.pone.0033693", "the work is named by the response")
        #expect(events[0].kind == .total && events[0].metric == "cites" && events[0].value == 72)
        #expect(events[0].observedAt == observed)
    }

    @Test("openalex work: cited_by_count 394")
    func openalexWork() throws {
        let events = try parse(OpenAlexWorkParser(), "openalex/work-by-doi.json", work: nil)
        #expect(events.map(\.work) == ["10.7717/peerj.4375"])
        #expect(totals(events) == ["cites": 394])
    }

    @Test("europepmc citations: 23 citing works, the first PMID 19749171, dated by publication year")
    func europepmcCitations() throws {
        let events = try parse(EuropePMCCitationsParser(), "europepmc/citations.json", work: "10.1371/journal.pone.0000001")
        #expect(events.count == 23)
        #expect(events.allSatisfy { $0.kind == .event && $0.metric == "cites" && $0.work == "10.1371/journal.pone.0000001" })
        #expect(events[0].id == "europepmc:MED:19749171:10.1371/journal.pone.0000001")
        #expect(events[0].subj == "https://europepmc.org/article/MED/19749171")
        #expect(events[0].occurredAt?.text == "2009-01-01T00:00:00Z")
        #expect(Set(events.compactMap(\.id)).count == 23, "ids are distinct")
        #expect(try parse(EuropePMCCitationsParser(), "europepmc/citations-empty.json", work: "10.1/x").isEmpty)
    }

    @Test("reddit search: 3 posts discuss the work; likes 1013 and comments 158")
    func redditSearch() throws {
        let events = try parse(RedditSearchParser(), "reddit/search.json", work: "10.1371/journal.pone.0008776")
        let posts = events.filter { $0.kind == .event }
        #expect(posts.count == 3)
        #expect(posts.allSatisfy { $0.metric == "discusses" && $0.id?.hasPrefix("reddit:t3_") == true })
        #expect(posts[0].id == "reddit:t3_1ee560")
        #expect(posts[0].occurredAt == Timestamp(microsecondsSinceEpoch: 1_368_637_584_000_000))
        #expect(totals(events) == ["likes": 1013, "comments": 158])
        #expect(try parse(RedditSearchParser(), "reddit/search-empty.json", work: "10.1/x").isEmpty)
    }

    @Test("datacite DOI detail: views 593, downloads 62")
    func dataciteDetail() throws {
        let events = try parse(DataCiteDOIParser(), "datacite/doi-detail.json", work: nil)
        #expect(Set(events.map(\.work)) == ["10.7272/q6g15xs4"])
        #expect(totals(events) == ["views": 593, "downloads": 62, "cites": 0])
    }
}

@Suite("collectors: broken responses give typed errors")
struct MalformedResponseTests {
    @Test("not JSON, wrong types, missing fields and source errors are named, never a crash or a zero",
          arguments: [
            (CrossrefWorkParser() as any ResponseParser, "{\"status\":\"ok\",\"message\":{\"DOI\":\"10.1/x\"}", "not JSON"),
            (CrossrefWorkParser(), #"{"status":"ok","message":{"DOI":"10.1/x","is-referenced-by-count":"many"}}"#, "message.is-referenced-by-count"),
            (CrossrefWorkParser(), #"{"status":"error","message":"Resource not found."}"#, "Resource not found"),
            (OpenAlexWorkParser(), #"{"doi":"https://doi.org/10.1/x"}"#, "cited_by_count"),
            (OpenAlexWorkParser(), #"[1,2]"#, "JSON object"),
            (EuropePMCCitationsParser(), #"{"hitCount":2,"citationList":{"citation":[{"id":"1"}]}}"#, "citationList.citation[0].source"),
            (RedditSearchParser(), #"{"data":{"children":[{"data":{"name":"t3_x"}}]}}"#, "permalink"),
            (DataCiteDOIParser(), #"{"data":[{"attributes":{"doi":"10.1/x","viewCount":-3}}]}"#, "viewCount"),
            (DataCiteDOIParser(), #"{"data":[{"attributes":{"doi":"not a doi","viewCount":1,"downloadCount":1,"citationCount":1}}]}"#, "work"),
          ] as [(any ResponseParser, String, String)])
    func malformed(parser: any ResponseParser, body: String, mentions: String) {
        let error = parseError(parser, body)
        #expect(error != nil)
        #expect(error?.source == parser.source)
        #expect(error?.description.contains(mentions) == true, "\(error?.description ?? "no error")")
    }

    @Test("a response that does not name its work needs --work")
    func workRequired() {
        #expect(parseError(EuropePMCCitationsParser(), #"{"hitCount":0}"#, work: nil)?.kind == .workRequired)
    }
}
