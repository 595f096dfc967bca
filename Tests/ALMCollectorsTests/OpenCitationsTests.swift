import ALMCollectors
import ALMCore
import Foundation
import Testing

@Suite("collectors: OpenCitations COCI")
struct OpenCitationsTests {
    static let work = "10.1108/jd-12-2013-0166"

    @Test("citations: 20 cites events, row 0 citing 10.1145/3197026.3197050 (2018), ids from oci, dated by creation")
    func citations() throws {
        let cassette = try Cassette(fixture: "opencitations/coci-citations.cassette.yml")
        #expect(cassette.interactions.map(\.uri) == ["http://opencitations.net/index/coci/api/v1/citations/10.1108/jd-12-2013-0166"])
        let events = try OpenCitationsCitationsParser().events(from: cassette.interactions[0].body, context: context(nil))
        #expect(events.count == 20)
        #expect(events.allSatisfy { $0.kind == .event && $0.metric == "cites" && $0.work == Self.work && $0.source == "opencitations" })
        #expect(Set(events.compactMap(\.id)).count == 20)
        #expect(events[0].subj == "https://doi.org/10.1145/3197026.3197050")
        #expect(events[0].obj == "https://doi.org/10.1108/jd-12-2013-0166")
        #expect(events[0].id == "opencitations:oci:0200101040536030109070002063703010907000500-0200101000836191363010263020001036300010606")
        // creation "2018", "2017-08", "2019-04-10": the first day of what is known.
        #expect(events[0...2].map(\.occurredAt?.text) == ["2018-01-01T00:00:00Z", "2017-08-01T00:00:00Z", "2019-04-10T00:00:00Z"])

        // The same 20 citing works as the metadata's `citation` list.
        let metadata = try Cassette(fixture: "opencitations/coci-metadata.cassette.yml").interactions[0].body
        let row = try #require((try JSONSerialization.jsonObject(with: Data(metadata)) as? [[String: Any]])?.first)
        let listed = try #require(row["citation"] as? String).components(separatedBy: "; ").map { "https://doi.org/\($0)" }
        #expect(Set(events.compactMap(\.subj)) == Set(listed))
    }

    @Test("metadata: citation_count \"20\" is the cites total")
    func metadata() throws {
        let cassette = try Cassette(fixture: "opencitations/coci-metadata.cassette.yml")
        let events = try OpenCitationsMetadataParser().events(from: cassette.interactions[0].body, context: context(nil))
        #expect(events.map(\.work) == [Self.work])
        #expect(totals(events) == ["cites": 20])
        #expect(try OpenCitationsMetadataParser().events(from: Array("[]".utf8), context: context(Self.work)).isEmpty,
                "an unknown DOI: no events")
    }

    @Test("later id forms: a citing id list with prefixes; no oci gives a stable hash; no creation the observation time")
    func idForms() throws {
        let body = #"""
        [{"cited":"doi:10.1108/JD-12-2013-0166","citing":"omid:br/0612 doi:10.1145/3197026.3197050 pmid:123"},
         {"cited":"coci => 10.1108/jd-12-2013-0166","citing":"coci => 10.1057/s41275-017-0070-x","creation":"","oci":"oci:0200-0300"}]
        """#
        let events = try OpenCitationsCitationsParser().events(from: Array(body.utf8), context: context(nil))
        #expect(events.map(\.subj) == ["https://doi.org/10.1145/3197026.3197050", "https://doi.org/10.1057/s41275-017-0070-x"])
        #expect(events.map(\.work) == [Self.work, Self.work])
        #expect(events[0].id == stableEventID(source: "opencitations", "10.1145/3197026.3197050", Self.work, "cites"))
        #expect(events[1].id == "opencitations:oci:0200-0300")
        #expect(events.allSatisfy { $0.occurredAt == observed })
    }

    @Test("broken rows are typed errors naming the row and field",
          arguments: [
            (OpenCitationsCitationsParser() as any ResponseParser, #"{"citing":"10.1/x"}"#, "JSON array"),
            (OpenCitationsCitationsParser(), #"[{"cited":"10.1/x","citing":"10.1/y","creation":"2018-13"}]"#, "[0].creation"),
            (OpenCitationsCitationsParser(), #"[{"cited":"10.1/x","citing":"unknown"}]"#, "[0].citing"),
            (OpenCitationsCitationsParser(), #"[{"cited":"10.1/x"}]"#, "[0].citing"),
            (OpenCitationsCitationsParser(), #"[7]"#, "[0]"),
            (OpenCitationsMetadataParser(), #"[{"doi":"10.1/x","citation_count":"many"}]"#, "[0].citation_count"),
            (OpenCitationsMetadataParser(), #"[{"doi":"10.1/x","citation_count":"20""#, "not JSON"),
          ] as [(any ResponseParser, String, String)])
    func malformed(parser: any ResponseParser, body: String, mentions: String) {
        let error = parseError(parser, body, work: nil)
        #expect(error?.source == "opencitations")
        #expect(error?.description.contains(mentions) == true, "\(error?.description ?? "no error")")
    }
}
