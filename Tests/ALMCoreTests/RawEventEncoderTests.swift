import ALMCore
import Testing

struct RawEventEncoderTests {
    @Test(arguments: SharedFiles.exampleFileNames())
    func examplesRoundTrip(file: String) throws {
        let event = try RawEventDecoder.decode(try SharedFiles.example(file))
        let encoded = event.encodedJSON()
        let decodedAgain = try RawEventDecoder.decode(encoded)
        #expect(decodedAgain == event)
        #expect(decodedAgain.encodedJSON() == encoded, "the canonical form is a fixed point")
    }

    @Test func writesKeysInSchemaOrderAndCompactly() throws {
        let event = try RawEventDecoder.decode(try SharedFiles.example("wikipedia-reference.json"))
        #expect(
            event.encodedJSONString()
                == #"{"schema_version":1,"kind":"event","id":"wikipedia:en:Malaria:10.1371/journal.pmed.0050045","source":"wikipedia","work":"10.1371/journal.pmed.0050045","obj":"https://doi.org/10.1371/JOURNAL.PMED.0050045","subj":"https://en.wikipedia.org/wiki/Malaria","metric":"references","value":1,"action":"add","occurred_at":"2026-03-02T11:04:09Z","observed_at":"2026-03-02T11:04:12Z","meta":{"title":"Malaria"}}"#
        )
    }

    @Test func omitsAbsentFieldsAndAlwaysWritesAction() throws {
        let event = try RawEventDecoder.decode(try SharedFiles.example("counter-monthly.json"))
        #expect(
            event.encodedJSONString()
                == #"{"schema_version":1,"kind":"count","source":"counter","work":"10.1371/journal.pone.0000308","metric":"downloads","value":120,"period":"2026-01","action":"add","observed_at":"2026-02-03T06:00:00Z"}"#
        )
    }

    @Test func escapesOnlyWhatJSONRequires() throws {
        let subj = "quote \" backslash \\ slash / newline \n tab \t nul \u{0} unit \u{1F} del \u{7F} é 😀 \u{2028}"
        let event = try RawEvent(
            kind: .total, source: "crossref", work: "10.1234/x", subj: subj, metric: "cites", value: 0,
            observedAt: Timestamp(parsing: "2026-03-02T00:00:00Z"))
        let json = event.encodedJSONString()
        #expect(json.contains(#""subj":"quote \" backslash \\ slash / newline \n tab \t nul \u0000 unit \u001f del \#u{7F} é 😀 \#u{2028}""#))
        #expect(try RawEventDecoder.decode(json).subj == subj)
    }

    @Test func keepsTimestampSpellingsAndMetaText() throws {
        let record = #"{"schema_version":1,"kind":"event","id":"x","source":"s","work":"10.1234/x","metric":"views","value":1,"occurred_at":"2026-03-02t12:04:09.123456789+01:00","observed_at":"2026-03-02T11:04:09z","meta":{ "b" : [1, 2.5e3, "\u00e9"] }}"#
        let event = try RawEventDecoder.decode(record)
        let json = event.encodedJSONString()
        #expect(json.contains(#""occurred_at":"2026-03-02t12:04:09.123456789+01:00","observed_at":"2026-03-02T11:04:09z""#))
        #expect(json.hasSuffix(#","meta":{ "b" : [1, 2.5e3, "\u00e9"] }}"#))
        #expect(try RawEventDecoder.decode(json) == event)
    }

    @Test func writesNormalisedWork() throws {
        let event = try RawEvent(
            kind: .total, source: "crossref", work: "https://doi.org/10.1371/JOURNAL.PONE.0000308",
            obj: "https://doi.org/10.1371/JOURNAL.PONE.0000308", metric: "cites", value: 31,
            observedAt: Timestamp(parsing: "2026-03-02T00:00:00Z"))
        #expect(event.work == "10.1371/journal.pone.0000308")
        #expect(event.encodedJSONString().contains(#""work":"10.1371/journal.pone.0000308""#))
    }

    @Test func largestValueRoundTrips() throws {
        let event = try RawEvent(
            kind: .total, source: "s", work: "10.1234/x", metric: "views", value: RawEvent.maximumValue,
            observedAt: Timestamp(parsing: "2026-03-02T00:00:00Z"))
        #expect(event.encodedJSONString().contains(#""value":9007199254740991,"#))
        #expect(try RawEventDecoder.decode(event.encodedJSON()) == event)
    }

    @Test func appendsToABatchBuffer() throws {
        let first = try RawEventDecoder.decode(try SharedFiles.example("crossref-total.json"))
        let second = try RawEventDecoder.decode(try SharedFiles.example("usage-request.json"))
        var batch: [UInt8] = []
        first.encodeJSON(into: &batch)
        batch.append(UInt8(ascii: "\n"))
        second.encodeJSON(into: &batch)
        let lines = batch.split(separator: UInt8(ascii: "\n")).map(Array.init)
        #expect(try lines.map { try RawEventDecoder.decode($0) } == [first, second])
    }
}

struct RawEventInitTests {
    @Test func initialiserEnforcesTheSchema() throws {
        let observed = try Timestamp(parsing: "2026-03-02T00:00:00Z")
        func expectRejected(
            field: String, code: String, sourceLocation: SourceLocation = #_sourceLocation,
            _ build: () throws -> RawEvent
        ) {
            do {
                let event = try build()
                Issue.record("accepted: \(event)", sourceLocation: sourceLocation)
            } catch let error as EventValidationError {
                #expect(error.field == field, "\(error)", sourceLocation: sourceLocation)
                #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            }
        }
        expectRejected(field: "source", code: "bad_pattern") {
            try RawEvent(kind: .total, source: "Crossref", work: "10.1234/x", metric: "cites", value: 1, observedAt: observed)
        }
        expectRejected(field: "metric", code: "bad_pattern") {
            try RawEvent(kind: .total, source: "crossref", work: "10.1234/x", metric: "Cites", value: 1, observedAt: observed)
        }
        expectRejected(field: "work", code: "invalid_doi") {
            try RawEvent(kind: .total, source: "crossref", work: "pmid:1", metric: "cites", value: 1, observedAt: observed)
        }
        expectRejected(field: "value", code: "out_of_range") {
            try RawEvent(
                kind: .total, source: "crossref", work: "10.1234/x", metric: "cites", value: RawEvent.maximumValue + 1,
                observedAt: observed)
        }
        expectRejected(field: "id", code: "missing_field") {
            try RawEvent(
                kind: .event, source: "crossref", work: "10.1234/x", metric: "cites", value: 1, occurredAt: observed,
                observedAt: observed)
        }
        expectRejected(field: "occurred_at", code: "missing_field") {
            try RawEvent(kind: .event, id: "a", source: "crossref", work: "10.1234/x", metric: "cites", value: 1, observedAt: observed)
        }
        expectRejected(field: "period", code: "missing_field") {
            try RawEvent(kind: .count, source: "counter", work: "10.1234/x", metric: "views", value: 1, observedAt: observed)
        }
        expectRejected(field: "id", code: "too_short") {
            try RawEvent(
                kind: .event, id: "", source: "crossref", work: "10.1234/x", metric: "cites", value: 1, occurredAt: observed,
                observedAt: observed)
        }
        expectRejected(field: "session", code: "too_long") {
            try RawEvent(
                kind: .total, source: "crossref", work: "10.1234/x", metric: "cites", value: 1, observedAt: observed,
                session: String(repeating: "s", count: 129))
        }
        expectRejected(field: "meta", code: "wrong_type") {
            try RawEvent(kind: .total, source: "crossref", work: "10.1234/x", metric: "cites", value: 1, observedAt: observed, meta: "[]")
        }
        expectRejected(field: "meta", code: "invalid_json") {
            try RawEvent(kind: .total, source: "crossref", work: "10.1234/x", metric: "cites", value: 1, observedAt: observed, meta: "{} ")
        }
        expectRejected(field: "meta", code: "invalid_json") {
            try RawEvent(
                kind: .total, source: "crossref", work: "10.1234/x", metric: "cites", value: 1, observedAt: observed,
                meta: #"{"a":}"#)
        }
        expectRejected(field: "meta", code: "too_long") {
            try RawEvent(
                kind: .total, source: "crossref", work: "10.1234/x", metric: "cites", value: 1, observedAt: observed,
                meta: #"{"a":""# + String(repeating: "x", count: 8200) + #""}"#)
        }
    }
}
