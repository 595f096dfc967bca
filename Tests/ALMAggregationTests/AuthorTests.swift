import ALMAggregation
import ALMCore
import Testing

@Suite("distinct authors of a work's mentions") struct AuthorTests {
    func post(_ rkey: String, by did: String, action: String = "add", at time: String = "2026-03-01T10:00:00Z") -> RawEvent {
        try! RawEventDecoder.decode(#"{"schema_version":1,"kind":"event","id":"bluesky:\#(did):\#(rkey)","source":"bluesky","work":"10.1/a","subj":"at://\#(did)/app.bsky.feed.post/\#(rkey)","metric":"discusses","value":1,"action":"\#(action)","occurred_at":"\#(time)","observed_at":"\#(time)"}"#)
    }

    @Test("the author of a record: meta.author, else the DID of an at:// subject, else unknown")
    func authorOfRecord() throws {
        #expect(post("1", by: "did:plc:alice").author == "did:plc:alice")
        let withMeta = try RawEventDecoder.decode(#"{"schema_version":1,"kind":"event","id":"r1","source":"reddit","work":"10.1/a","subj":"https://www.reddit.com/r/science/comments/x","metric":"discusses","value":1,"occurred_at":"2026-03-01T10:00:00Z","observed_at":"2026-03-01T10:00:00Z","meta":{"author":"u/sci","title":"t"}}"#)
        #expect(withMeta.author == "u/sci")
        let page = try RawEventDecoder.decode(#"{"schema_version":1,"kind":"event","id":"w1","source":"wikipedia","work":"10.1/a","subj":"https://en.wikipedia.org/wiki/A","metric":"references","value":1,"occurred_at":"2026-03-01T10:00:00Z","observed_at":"2026-03-01T10:00:00Z"}"#)
        #expect(page.author == nil)
    }

    @Test("three posts by two authors are two authors; retractions take an author away only with their last post")
    func counting() throws {
        let engine = PartitionEngine(rules: AggregationRules())
        for record in [post("1", by: "did:plc:alice"), post("2", by: "did:plc:alice"), post("3", by: "did:plc:bob")] { engine.apply(record) }
        #expect(engine.aggregate("10.1/a")?.sources["bluesky"]?["discusses"] == 3)
        #expect(engine.aggregate("10.1/a")?.authors == ["bluesky": 2])
        engine.apply(post("1", by: "did:plc:alice", action: "delete", at: "2026-03-02T10:00:00Z"))
        #expect(engine.aggregate("10.1/a")?.authors == ["bluesky": 2], "alice still has post 2")

        // The line carries the count; a restored engine counts the authors again from its held records.
        var drained = DrainedState()
        drained.take(engine.drainChanges())
        let line = String(decoding: engine.aggregate("10.1/a")!.jsonLine(), as: UTF8.self)
        #expect(line.contains(#""by_month":{"2026-03":{"discussed":2}},"authors":{"bluesky":2},"first_seen""#), "\(line)")
        #expect(try WorkAggregate(jsonLine: Array(line.utf8)).authors == ["bluesky": 2])
        let restored = try drained.restore(rules: AggregationRules())
        restored.apply(post("2", by: "did:plc:alice", action: "delete", at: "2026-03-02T10:00:00Z"))
        #expect(restored.aggregate("10.1/a")?.authors == ["bluesky": 1])
        restored.apply(post("3", by: "did:plc:bob", action: "delete", at: "2026-03-02T10:00:00Z"))
        #expect(restored.aggregate("10.1/a")?.authors == [:])
        #expect(!String(decoding: restored.aggregate("10.1/a")!.jsonLine(), as: UTF8.self).contains("authors"))
    }
}
