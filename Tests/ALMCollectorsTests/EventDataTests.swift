import ALMCollectors
import ALMCore
import Foundation
import Testing

@Suite("collectors: Crossref Event Data")
struct EventDataTests {
    let parser = EventDataParser()

    /// The events of eventdata/events-with-edits-and-deletes.json, as JSON objects.
    func recordedTestEvents() throws -> [[String: Any]] {
        let root = try #require(try JSONSerialization.jsonObject(with: Data(try fixture("eventdata/events-with-edits-and-deletes.json"))) as? [String: Any])
        return try #require(root["events"] as? [[String: Any]])
    }

    func body(_ events: [[String: Any]]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: ["events": events]))
    }

    @Test("the Query API page as recorded lacks its final brace: a malformed_response error, no events")
    func truncatedPage() throws {
        let error = parseError(parser, String(decoding: try fixture("eventdata/query-api-page.json"), as: UTF8.self))
        #expect(error?.kind == .malformedResponse)
        #expect(error?.source == "eventdata")
        #expect(error?.message.hasPrefix("not JSON") == true, "\(error?.description ?? "no error")")
    }

    @Test("the Query API page with its brace: 16 events, of which the 8 that link a DOI become raw events")
    func queryPage() throws {
        let page = try fixture("eventdata/query-api-page.json") + Array("}".utf8)
        let decoded = try parser.decode(page)
        #expect(decoded.count == 16)
        #expect(decoded[0].id == "bf1ffe8b-468e-4809-8203-74f04806d3c7")

        let events = try parser.events(from: page, context: context(nil))
        #expect(events.count == 8, "Wikipedia's is_version_of/replaces between revisions name no DOI")
        #expect(events.allSatisfy { $0.kind == .event && $0.action == .add && $0.source == "eventdata" })
        #expect(events.map(\.work) == [
            "10.2307/834014", "10.1017/s0025727300016136", "10.1007/s10518-016-9982-8", "10.1080/13600820802090512",
            "10.1145/2933057.2933107", "10.1523/jneurosci.1907-16.2016", "10.1038/nature19798", "10.1093/emboj/20.15.4132",
        ])
        #expect(events.map(\.metric) == ["references", "references", "cites", "references", "discusses", "discusses", "discusses", "references"])
        #expect(events[0].subj == "https://en.wikipedia.org/w/index.php?title=George_Harrison&oldid=799153948")
        #expect(events[0].obj == "https://doi.org/10.2307/834014")
        #expect(events[0].occurredAt?.text == "2017-09-05T23:58:53Z")
        #expect(events[0].meta == #"{"eventdata_id":"89c120e7-b013-40e0-8ea3-c52cc25f9327","eventdata_source":"wikipedia"}"#)
        #expect(events[2].subj == "https://doi.org/10.13127/ITACA/2.1", "DataCite: the citing dataset")
        #expect(events[3].value == 5681, "an early Facebook event stands for its total")
        #expect(events[6].occurredAt?.text == "2016-09-26T15:23:13.000Z")
    }

    @Test("edits and deletes: 11 events; duplicates collapse, experimental ones are left out, deleted ones retract")
    func editsAndDeletes() throws {
        let events = try parser.events(from: try fixture("eventdata/events-with-edits-and-deletes.json"), context: context(nil))
        #expect(try parser.decode(try fixture("eventdata/events-with-edits-and-deletes.json")).count == 11)
        #expect(events.count == 9, "the 2 experimental events are not raw events")

        func event(_ eventDataID: String) -> RawEvent? {
            events.first { $0.meta?.contains(#""eventdata_id":"00000000-0000-0000-0000-0000000000\#(eventDataID)""#) == true }
        }
        let (standard1, standard2) = (try #require(event("01")), try #require(event("02")))
        #expect(standard1.id == standard2.id && standard1.work == "10.5555/12345678", "a duplicate is the same event")
        let (deleted1, deleted2, edited1) = (try #require(event("07")), try #require(event("08")), try #require(event("05")))
        #expect(deleted1.action == .delete && deleted2.action == .delete)
        #expect(edited1.action == .add, "an edited event that still links its DOI counts")
        let (scholix1, scholix2) = (try #require(event("09")), try #require(event("0a")))
        #expect(scholix1.metric == "references" && scholix1.work == "10.5167/uzh-30455", "isReferencedBy: the subject is the work")
        #expect(scholix1.id == scholix2.id && scholix2.work == scholix1.work, "one link reported from both ends")

        #expect(countedByWork(events) == [
            "10.5555/12345678 references": 3,  // standard (twice), edited 1, edited 2; the deleted two retracted
            "10.5167/uzh-30455 references": 1,
            "10.1098/rspb.2016.0792 discusses": 1,
        ])
    }

    @Test("a deleted event retracts the event it was, whichever body arrives first")
    func deletedRetracts() throws {
        let deleted = try #require(try recordedTestEvents().first { $0["comment"] as? String == "Deleted 1" })
        var original = deleted
        for key in ["updated", "updated_date", "updated_reason"] { original[key] = nil }
        let added = try parser.events(from: try body([original]), context: context(nil))
        let retraction = try parser.events(from: try body([deleted]), context: context(nil))
        #expect(added.map(\.action) == [.add] && retraction.map(\.action) == [.delete])
        #expect(added[0].id == retraction[0].id && added[0].work == retraction[0].work && added[0].occurredAt == retraction[0].occurredAt)
        #expect(countedEvents(added + retraction).isEmpty && countedEvents(retraction + added).isEmpty)
    }

    @Test("an edited event replaces its earlier version: the same link keeps its id; a changed link retracts the old one")
    func editedReplaces() throws {
        let edited = try #require(try recordedTestEvents().first { $0["comment"] as? String == "Edited 1" })
        var earlier = edited
        for key in ["updated", "updated_date", "updated_reason"] { earlier[key] = nil }
        earlier["subj"] = ["pid": "https://www.example.com/page1", "title": "before the edit"]

        // Details edited, link unchanged: the same id, counted once across bodies.
        let before = try parser.events(from: try body([earlier]), context: context(nil))
        let after = try parser.events(from: try body([edited]), context: context(nil))
        #expect(before.map(\.id) == after.map(\.id))
        #expect(countedByWork(before + after) == ["10.5555/12345678 references": 1])

        // The link itself edited (a wrong DOI corrected), both versions in one body.
        earlier["obj_id"] = "https://doi.org/10.5555/99999999"
        let wrong = try parser.events(from: try body([earlier]), context: context(nil))
        let corrected = try parser.events(from: try body([earlier, edited]), context: context(nil))
        #expect(corrected.map(\.action) == [.add, .delete])
        #expect(corrected.map(\.work) == ["10.5555/12345678", "10.5555/99999999"])
        #expect(corrected[1].id == wrong[0].id)
        #expect(countedByWork(wrong + corrected) == ["10.5555/12345678 references": 1])
        let reversed = try parser.events(from: try body([edited, earlier]), context: context(nil))
        #expect(reversed == corrected, "versions are ordered by updated_date, not by position")
    }

    @Test("broken events are typed errors naming the field",
          arguments: [
            (#"{"status":"failed","message":"rate limited"}"#, "rate limited"),
            (#"{"status":"ok","message":{"items":[]}}"#, "message.events"),
            (#"{"events":[{"id":"x","source_id":"s","subj_id":"a","obj_id":"https://doi.org/10.1/x","relation_type_id":"cites"}]}"#, "events[0].occurred_at"),
            (#"{"events":[{"id":"x","source_id":"s","subj_id":"a","obj_id":"https://doi.org/10.1/x","relation_type_id":"cites","occurred_at":"2017-02-30T00:00:00Z"}]}"#, "events[0].occurred_at"),
            (#"{"events":[{"id":"x","source_id":"s","subj_id":"a","obj_id":"https://doi.org/10.1/x","relation_type_id":"cites","occurred_at":"2017-02-03T00:00:00Z","total":-1}]}"#, "events[0].total"),
            (#"{"events":[{"id":"x","source_id":"s","subj_id":"a","obj_id":"https://doi.org/10.1/x","relation_type_id":"cites 2","occurred_at":"2017-02-03T00:00:00Z"}]}"#, "relation_type_id"),
            (#"{"events":[3]}"#, "events[0]"),
          ] as [(String, String)])
    func malformed(body: String, mentions: String) {
        let error = parseError(parser, body, work: nil)
        #expect(error?.source == "eventdata")
        #expect(error?.description.contains(mentions) == true, "\(error?.description ?? "no error")")
    }
}
