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
        #expect(posts.map(\.author) == ["reddit:u/jjberg2", "reddit:u/jjberg2", "reddit:u/YetAnotherBadAlias"],
                "two of the posts are by one author, which the attention score counts once")
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

@Suite("collectors: recorded XML responses")
struct XMLFixtureTests {
    @Test("crossref cited-by: 31 citing works, the first 10.3758/s13423-011-0070-4 from 2011; none in the empty answer")
    func crossrefForwardLinks() throws {
        let events = try parse(CrossrefForwardLinksParser(), "crossref/cited-by-forward-links.xml", work: "10.1371/journal.pone.0043007")
        #expect(events.count == 31)
        #expect(events.allSatisfy { $0.metric == "cites" && $0.kind == .event && $0.work == "10.1371/journal.pone.0043007" })
        #expect(events[0].subj == "https://doi.org/10.3758/s13423-011-0070-4")
        #expect(events[0].id == "crossref:cites:10.3758/s13423-011-0070-4:10.1371/journal.pone.0043007")
        #expect(events[0].occurredAt?.text == "2011-01-01T00:00:00Z")
        #expect(Set(events.compactMap(\.id)).count == 31)
        #expect(try parse(CrossrefForwardLinksParser(), "crossref/cited-by-forward-links-empty.xml", work: nil).isEmpty)
    }

    @Test("crossref OpenURL: fl_count 13")
    func crossrefOpenURL() throws {
        let events = try parse(CrossrefOpenURLParser(), "crossref/openurl-fl-count.xml", work: "10.1007/s00248-010-9734-2")
        #expect(events.map(\.work) == ["10.1007/s00248-010-9734-2"])
        #expect(totals(events) == ["cites": 13])
    }

    @Test("pubmed: 13 PMCIDs, 12 distinct, 12 cites events; none in the empty answer")
    func pubmedCiting() throws {
        let events = try parse(PubMedCitingParser(), "pubmed/pmc-citing.xml", work: "10.1/pmid17183631")
        #expect(events.count == 12)
        #expect(events.filter { $0.subj == "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3292175" }.count == 1)
        #expect(events.allSatisfy { $0.metric == "cites" && $0.id?.hasPrefix("pubmed:PMC") == true })
        #expect(try parse(PubMedCitingParser(), "pubmed/pmc-citing-empty.xml", work: "10.1/x").isEmpty)
    }

    @Test("pmc usage report: 10.1164/rccm.200612-1772OC in 2014-01 has 20 views and 3 downloads; the error reply is a source error")
    func pmcUsage() throws {
        let events = try parse(PMCUsageReportParser(), "pmc/usage-report-single-journal.xml", work: nil)
        #expect(Set(events.map(\.work)).count == 3, "one response, three works")
        let first = events.filter { $0.work == "10.1164/rccm.200612-1772oc" }
        #expect(first.map(\.period?.text) == ["2014-01", "2014-01"])
        #expect(Dictionary(uniqueKeysWithValues: first.map { ($0.metric, $0.value) }) == ["views": 20, "downloads": 3])
        let error = parseError(PMCUsageReportParser(), String(decoding: try fixture("pmc/usage-report-error.xml"), as: UTF8.self))
        #expect(error?.kind == .sourceError)
        #expect(error?.message == "wrong data requested")
    }

    @Test("PLOS counter: 37 months, html 2919, pdf 447, xml 21 (total 3387); 2010-01 html 299, pdf 90, xml 1")
    func plosCounter() throws {
        let events = try parse(PLOSCounterParser(), "counter/plos-counter.xml", work: nil)
        #expect(Set(events.map(\.work)) == ["10.1371/journal.pone.0008776"])
        #expect(Set(events.compactMap(\.period?.text)).count == 37)
        var sums: [String: UInt64] = [:]
        for event in events { sums[event.metric, default: 0] += event.value }
        #expect(sums == ["views": 2919, "downloads": 447, "xml_downloads": 21])
        #expect(sums.values.reduce(0, +) == 3387)
        let january = events.filter { $0.period?.text == "2010-01" }
        #expect(Dictionary(uniqueKeysWithValues: january.map { ($0.metric, $0.value) }) == ["views": 299, "downloads": 90, "xml_downloads": 1])
        #expect(try parse(PLOSCounterParser(), "counter/plos-counter-empty.xml", work: nil).isEmpty)
    }

    @Test("XML that is not well formed, or not the expected document, is a typed error",
          arguments: [
            (CrossrefForwardLinksParser() as any ResponseParser, "<crossref_result><body>", "not well-formed XML"),
            (CrossrefForwardLinksParser(), "<html><body>Service unavailable</body></html>", "expected <crossref_result>"),
            (CrossrefOpenURLParser(), #"<crossref_result><query status="unresolved" fl_count="0"/></crossref_result>"#, "unresolved"),
            (PubMedCitingParser(), "<PubMedToPMCcitingformSET><REFORM><PMCID>12a</PMCID></REFORM></PubMedToPMCcitingformSET>", "expected digits"),
            (PMCUsageReportParser(), #"<pmc-web-stat><request year="2014" month="1"/><response status="0"/><articles><article><meta-data doi="10.1/x"/><usage full-text="many" pdf="1"/></article></articles></pmc-web-stat>"#, "full-text"),
            (PLOSCounterParser(), "<rest><status>success</status><response><results><item><year>2010</year><month>13</month></item></results></response></rest>", "year and month"),
          ] as [(any ResponseParser, String, String)])
    func malformedXML(parser: any ResponseParser, body: String, mentions: String) {
        let error = parseError(parser, body)
        #expect(error?.source == parser.source)
        #expect(error?.description.contains(mentions) == true, "\(error?.description ?? "no error")")
    }
}
