@testable import ALMCollectors
import ALMCore
import Foundation
import Testing

/// A Hypothes.is `/api/search` row with every field ../shared/fixtures/hypothesis/annotation.schema.yaml requires.
func annotation(id: String?, created: String = "2026-02-11T09:15:02.412867+00:00", links: [String: String]? = nil,
                        hidden: Bool = false, moderation: String = "APPROVED") -> [String: Any] {
    var row: [String: Any] = [
        "created": created, "updated": "2026-02-12T10:00:00.000000+00:00",
        "user": "acct:felicity_nunsun@hypothes.is", "uri": "https://doi.org/10.1371/journal.pone.0000001",
        "text": "Figure 2 contradicts the abstract.", "tags": ["methods"], "group": "__world__",
        "permissions": ["read": ["group:__world__"]],
        "target": [["source": "https://doi.org/10.1371/journal.pone.0000001",
                    "selector": [["type": "TextQuoteSelector", "exact": "significant", "prefix": "was ", "suffix": " at"]]]],
        "document": ["title": ["A PLOS ONE article"]],
        "links": links ?? ["html": "https://hypothes.is/a/\(id ?? "none")", "incontext": "https://hyp.is/\(id ?? "none")/doi.org/10.1371/journal.pone.0000001",
                           "json": "https://hypothes.is/api/annotations/\(id ?? "none")"],
        "hidden": hidden, "moderation_status": moderation, "flagged": false, "actions": [String](),
    ]
    if let id { row["id"] = id }
    return row
}

func search(total: Int, _ rows: [[String: Any]]) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: ["total": total, "rows": rows]), as: UTF8.self)
}

private func hypothesis(_ body: String, work: String? = "10.1371/journal.pone.0000001") throws -> [RawEvent] {
    try HypothesisSearchParser().events(from: Array(body.utf8), context: context(work))
}

@Suite("collectors: annotations and links")
struct LinkFixtureTests {
    @Test("hypothesis search: 2 rows are 2 annotates events with Hypothes.is ids, created times and html links")
    func hypothesisRows() throws {
        let body = try search(total: 2, [
            annotation(id: "Qm9vaDZ0aGlz"),
            annotation(id: "c2Vjb25k", created: "2026-02-13T20:00:00+01:00",
                       links: ["incontext": "https://hyp.is/c2Vjb25k/doi.org/10.1371/journal.pone.0000001"]),
        ])
        let events = try hypothesis(body)
        #expect(events.count == 2)
        #expect(events.allSatisfy { $0.kind == .event && $0.metric == "annotates" && $0.action == .add && $0.work == "10.1371/journal.pone.0000001" })
        #expect(events.map(\.id) == ["hypothesis:Qm9vaDZ0aGlz", "hypothesis:c2Vjb25k"])
        #expect(events[0].occurredAt?.text == "2026-02-11T09:15:02.412867+00:00")
        #expect(events[1].occurredAt == (try Timestamp(parsing: "2026-02-13T19:00:00Z")))
        #expect(events[0].subj == "https://hypothes.is/a/Qm9vaDZ0aGlz")
        #expect(events[1].subj == "https://hyp.is/c2Vjb25k/doi.org/10.1371/journal.pone.0000001", "no html link: the incontext one")
        #expect(events[0].obj == "https://doi.org/10.1371/journal.pone.0000001")
        #expect(events.allSatisfy { $0.author == "acct:felicity_nunsun@hypothes.is" }, "the annotator, for one mention per author")
        #expect(try hypothesis(try search(total: 0, [])).isEmpty)
    }

    @Test("hypothesis: a hidden or spam annotation is retracted, dated by its update")
    func hypothesisRetracted() throws {
        let events = try hypothesis(try search(total: 2, [annotation(id: "aGlkZGVu", hidden: true), annotation(id: "c3BhbQ", moderation: "SPAM")]))
        #expect(events.map(\.action) == [.delete, .delete])
        #expect(events[0].occurredAt?.text == "2026-02-12T10:00:00.000000+00:00")
    }

    @Test("hypothesis: a row without id, a bad date, no link, or no rows are typed errors; the work is required")
    func hypothesisMalformed() throws {
        let noID = try search(total: 1, [annotation(id: nil)])
        #expect(parseError(HypothesisSearchParser(), noID)?.description == "hypothesis: malformed_response: rows[0].id: expected a string, found nothing")
        #expect(parseError(HypothesisSearchParser(), try search(total: 1, [annotation(id: "a", created: "yesterday")]))?.message.contains("rows[0].created") == true)
        #expect(parseError(HypothesisSearchParser(), try search(total: 1, [annotation(id: "a", links: ["json": "x"])]))?.message.contains("rows[0].links") == true)
        #expect(parseError(HypothesisSearchParser(), #"{"total":3}"#)?.message.contains("rows") == true)
        #expect(parseError(HypothesisSearchParser(), try search(total: 1, [annotation(id: "a")]), work: nil)?.kind == .workRequired)
    }

    @Test("europepmc search-lite: 24 of 25 results have a DOI → 24 cites totals; 10.1093/nutrit/nuae105 has 3, the rest 0")
    func europepmcSearch() throws {
        let events = try parse(EuropePMCSearchParser(), "europepmc/search-lite.json", work: nil)
        #expect(events.count == 24)
        #expect(Set(events.map(\.work)).count == 24)
        #expect(events.allSatisfy { $0.kind == .total && $0.metric == "cites" && $0.source == "europepmc" })
        #expect(events[0].work == "10.1016/s0140-6736(24)02600-x" && events[0].value == 0)
        #expect(events.first { $0.work == "10.1093/nutrit/nuae105" }?.value == 3)
        #expect(events.reduce(0) { $0 + $1.value } == 3)
        #expect(try EuropePMCSearchParser().events(from: Array(#"{"hitCount":0}"#.utf8), context: context(nil)).isEmpty)
        let error = parseError(EuropePMCSearchParser(), #"{"hitCount":1,"resultList":{"result":[{"doi":"10.1/x","citedByCount":-1}]}}"#)
        #expect(error?.message.contains("resultList.result[0].citedByCount") == true)
    }

    @Test("datacite related: dataset 10.5061/dryad.8515 IsReferencedBy 10.1371/journal.ppat.1000446 → 1 data_references event")
    func dataciteRelated() throws {
        let events = try parse(DataCiteRelatedParser(), "datacite/search-related.json", work: "10.1371/journal.ppat.1000446")
        #expect(events.count == 1, "HasPart and the empty IsReferencedBy:DOI: are ignored")
        let event = try #require(events.first)
        #expect(event.kind == .event && event.metric == "data_references" && event.work == "10.1371/journal.ppat.1000446")
        #expect(event.id == "datacite:IsReferencedBy:10.5061/dryad.8515:10.1371/journal.ppat.1000446")
        #expect(event.subj == "https://doi.org/10.5061/dryad.8515")
        #expect(event.obj == "10.1371/JOURNAL.PPAT.1000446")
        #expect(event.occurredAt?.text == "2011-01-01T00:00:00Z", "publicationYear 2011")
        #expect(event.meta == #"{"relation":"IsReferencedBy"}"#)
        #expect(try parse(DataCiteRelatedParser(), "datacite/search-related.json", work: nil).map(\.id) == events.map(\.id),
                "without a work every related DOI is one")
        #expect(try parse(DataCiteRelatedParser(), "datacite/search-related.json", work: "10.1/other").isEmpty)
    }

    @Test("datacite related: a record that Cites the work is a cites event; a broken relation is a typed error")
    func dataciteRelations() throws {
        let body = #"{"response":{"docs":[{"doi":"10.5281/ZENODO.1","relatedIdentifier":["Cites:DOI:10.1/x","IsVersionOf:DOI:10.1/x","Cites:URL:https://example.org"]}]}}"#
        let events = try DataCiteRelatedParser().events(from: Array(body.utf8), context: context("10.1/x"))
        #expect(events.map(\.metric) == ["cites"])
        #expect(events.first?.subj == "https://doi.org/10.5281/zenodo.1")
        #expect(parseError(DataCiteRelatedParser(), #"{"response":{"docs":[{"doi":"10.1/d","relatedIdentifier":["IsReferencedBy"]}]}}"#)?
            .message.contains("response.docs[0].relatedIdentifier[0]") == true)
        #expect(parseError(DataCiteRelatedParser(), #"{"response":{"docs":[{"relatedIdentifier":[]}]}}"#)?.message.contains("response.docs[0].doi") == true)
        #expect(parseError(DataCiteRelatedParser(), #"{"responseHeader":{"status":400}}"#)?.kind == .sourceError)
    }
}
