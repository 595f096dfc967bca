import ALMCore
import Testing

struct CompactEventTests {
    private func roundTrip(_ event: RawEvent, omitting omissions: CompactEventOmissions) throws -> RawEvent {
        try RawEvent(compact: event.compactEncoding(omitting: omissions), work: event.work, source: event.source,
                     id: omissions.contains(.id) ? event.id : nil,
                     metric: omissions.contains(.metric) ? event.metric : nil,
                     period: omissions.contains(.period) ? event.period?.text : nil)
    }

    @Test(arguments: SharedFiles.exampleFileNames())
    func examplesDecodeToTheSameCanonicalJSON(file: String) throws {
        let event = try RawEventDecoder.decode(try SharedFiles.example(file))
        for omissions: CompactEventOmissions in [[], [.id], [.metric], [.metric, .period], [.id, .metric, .period]] {
            let decoded = try roundTrip(event, omitting: omissions)
            #expect(decoded.encodedJSON() == event.encodedJSON(), "\(file) omitting \(omissions.rawValue)")
        }
        #expect(event.compactEncoding().count < event.encodedJSON().count / 2)
    }

    @Test func keepsTimestampSpellingsMetaAndEveryOptionalField() throws {
        let text = #"{"schema_version":1,"kind":"event","id":"u-1","source":"accesslog","work":"10.1/a","obj":"https://doi.org/10.1/A","subj":"at://did:plc:x/app.bsky.feed.post/1","metric":"views","value":3,"action":"delete","occurred_at":"2026-03-02T12:04:09.5+01:00","observed_at":"2026-03-02t11:04:12.123456z","session":"s-ä","agent":"Mozilla/5.0","meta":{"author":"a","n":[1,2]}}"#
        let event = try RawEventDecoder.decode(text)
        let decoded = try roundTrip(event, omitting: [.id])
        #expect(decoded.encodedJSON() == event.encodedJSON())
        #expect(decoded.occurredAt?.text == "2026-03-02T12:04:09.5+01:00")
        #expect(decoded.author == "a")

        let header = try #require(RawEvent.compactHeader(event.compactEncoding(omitting: [.id])))
        #expect(header.isDelete && header.value == 3)
        #expect(header.occurredAt == event.occurredAt?.microsecondsSinceEpoch)
        #expect(header.observedAt == event.observedAt.microsecondsSinceEpoch)
    }

    @Test func refusesWhatIsNotAnEncoding() throws {
        let event = try RawEventDecoder.decode(try SharedFiles.example("counter-monthly.json"))
        let bytes = event.compactEncoding(omitting: [.metric, .period])
        #expect(throws: CompactEventError.self) { try RawEvent(compact: bytes, work: event.work, source: event.source) }
        #expect(throws: CompactEventError.self) {
            try RawEvent(compact: Array(bytes.dropLast()), work: event.work, source: event.source, metric: "downloads", period: "2026-01")
        }
        #expect(throws: CompactEventError.self) {
            try RawEvent(compact: bytes + [0], work: event.work, source: event.source, metric: "downloads", period: "2026-01")
        }
        #expect(throws: CompactEventError.self) { try RawEvent(compact: Array("{}".utf8), work: event.work, source: event.source) }
        #expect(throws: CompactEventError.self) { try RawEvent(compact: [], work: event.work, source: event.source) }
    }
}
