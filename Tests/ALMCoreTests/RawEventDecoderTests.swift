import ALMCore
import Testing

/// A valid `total` record and a valid `event` record that the tables below break one rule at a time.
enum Records {
    static let total =
        #"{"schema_version":1,"kind":"total","source":"crossref","work":"10.1371/journal.pone.0000308","metric":"cites","value":31,"observed_at":"2026-03-02T00:00:00Z"}"#
    static let event =
        #"{"schema_version":1,"kind":"event","id":"e-1","source":"wikipedia","work":"10.1371/journal.pmed.0050045","metric":"references","value":1,"occurred_at":"2026-03-02T11:04:09Z","observed_at":"2026-03-02T11:04:12Z"}"#

    /// `total` with `"value":31` replaced by `"value":<json>` and so on.
    static func total(replacing old: String, with new: String) -> String {
        precondition(total.contains(old), "\(old) is not in the base record")
        return total.replacing(old, with: new)
    }

    static func event(replacing old: String, with new: String) -> String {
        precondition(event.contains(old), "\(old) is not in the base record")
        return event.replacing(old, with: new)
    }

    /// `total` with extra members inserted before the closing brace.
    static func total(adding members: String) -> String {
        String(total.dropLast()) + "," + members + "}"
    }
}

struct ExpectedExample: Sendable, CustomTestStringConvertible {
    let file: String
    let event: RawEvent
    var testDescription: String { file }
}

struct InvalidRecord: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let field: String?
    let code: String

    init(_ name: String, _ json: String, field: String?, code: String) {
        self.init(name, Array(json.utf8), field: field, code: code)
    }

    init(_ name: String, _ bytes: [UInt8], field: String?, code: String) {
        self.name = name
        self.bytes = bytes
        self.field = field
        self.code = code
    }

    var testDescription: String { name }
}

struct RawEventDecoderTests {
    static func expectedExamples() throws -> [ExpectedExample] {
        let work0308 = "10.1371/journal.pone.0000308"
        let work0045 = "10.1371/journal.pmed.0050045"
        let wikipediaID = "wikipedia:en:Malaria:10.1371/journal.pmed.0050045"
        return [
            ExpectedExample(
                file: "counter-monthly.json",
                event: try RawEvent(
                    kind: .count, source: "counter", work: work0308, metric: "downloads", value: 120,
                    period: Period(parsing: "2026-01"), observedAt: Timestamp(parsing: "2026-02-03T06:00:00Z"))),
            ExpectedExample(
                file: "crossref-total.json",
                event: try RawEvent(
                    kind: .total, source: "crossref", work: work0308, obj: work0308, metric: "cites", value: 31,
                    observedAt: Timestamp(parsing: "2026-03-02T00:00:00Z"))),
            ExpectedExample(
                file: "usage-request.json",
                event: try RawEvent(
                    kind: .event, id: "accesslog:web-3:2026-03-02T10:00:01.123Z:8812", source: "accesslog",
                    work: work0308, subj: "/article/file?id=10.1371/journal.pone.0000308&type=printable",
                    metric: "downloads", value: 1, occurredAt: Timestamp(parsing: "2026-03-02T10:00:01.123Z"),
                    observedAt: Timestamp(parsing: "2026-03-02T10:00:02Z"), session: "5f1c0b9e2d7a44c1",
                    agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0")),
            ExpectedExample(
                file: "wikipedia-reference-removed.json",
                event: try RawEvent(
                    kind: .event, id: wikipediaID, source: "wikipedia", work: work0045,
                    subj: "https://en.wikipedia.org/wiki/Malaria", metric: "references", value: 1, action: .delete,
                    occurredAt: Timestamp(parsing: "2026-03-09T08:00:00Z"),
                    observedAt: Timestamp(parsing: "2026-03-09T08:00:03Z"))),
            ExpectedExample(
                file: "wikipedia-reference.json",
                event: try RawEvent(
                    kind: .event, id: wikipediaID, source: "wikipedia", work: work0045,
                    obj: "https://doi.org/10.1371/JOURNAL.PMED.0050045", subj: "https://en.wikipedia.org/wiki/Malaria",
                    metric: "references", value: 1, action: .add, occurredAt: Timestamp(parsing: "2026-03-02T11:04:09Z"),
                    observedAt: Timestamp(parsing: "2026-03-02T11:04:12Z"), meta: #"{"title":"Malaria"}"#)),
        ]
    }

    @Test func everyExampleFileHasExpectations() throws {
        let files = SharedFiles.exampleFileNames()
        #expect(!files.isEmpty, "no example files found: is shared/ beside the package?")
        #expect(files == (try Self.expectedExamples()).map(\.file))
    }

    @Test(arguments: try expectedExamples())
    func decodesSpecExample(_ example: ExpectedExample) throws {
        let decoded = try RawEventDecoder.decode(try SharedFiles.example(example.file))
        let expected = example.event
        #expect(decoded == expected)
        // Field by field too, so a failure names the field, and the texts `==` on Timestamp ignores.
        #expect(decoded.schemaVersion == 1)
        #expect(decoded.kind == expected.kind)
        #expect(decoded.id == expected.id)
        #expect(decoded.source == expected.source)
        #expect(decoded.work == expected.work)
        #expect(decoded.obj == expected.obj)
        #expect(decoded.subj == expected.subj)
        #expect(decoded.metric == expected.metric)
        #expect(decoded.value == expected.value)
        #expect(decoded.period?.text == expected.period?.text)
        #expect(decoded.action == expected.action)
        #expect(decoded.occurredAt?.text == expected.occurredAt?.text)
        #expect(decoded.occurredAt?.microsecondsSinceEpoch == expected.occurredAt?.microsecondsSinceEpoch)
        #expect(decoded.observedAt.text == expected.observedAt.text)
        #expect(decoded.observedAt.microsecondsSinceEpoch == expected.observedAt.microsecondsSinceEpoch)
        #expect(decoded.session == expected.session)
        #expect(decoded.agent == expected.agent)
        #expect(decoded.meta == expected.meta)
    }

    @Test func exampleInstantsAreRight() throws {
        let usage = try RawEventDecoder.decode(try SharedFiles.example("usage-request.json"))
        #expect(usage.occurredAt?.microsecondsSinceEpoch == 1_772_445_601_123_000)
        #expect(usage.observedAt.microsecondsSinceEpoch == 1_772_445_602_000_000)
        let counter = try RawEventDecoder.decode(try SharedFiles.example("counter-monthly.json"))
        #expect(counter.period == (try Period(parsing: "2026-01")))
        #expect(counter.observedAt.microsecondsSinceEpoch == 1_770_098_400_000_000)
    }

    // MARK: - Rejected records

    static let invalidRecords: [InvalidRecord] = {
        let long = { (count: Int) in String(repeating: "x", count: count) }
        let nestedMeta = { (depth: Int) in String(repeating: #"{"a":"#, count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1) }
        func totalBytes(replacingSubjWith bytes: [UInt8]) -> [UInt8] {
            Array(String(Records.total.dropLast()).utf8) + Array(#","subj":"a"#.utf8) + bytes + Array(#"b"}"#.utf8)
        }
        return [
            // JSON syntax: field is nil, code invalid_json.
            InvalidRecord("empty input", "", field: nil, code: "invalid_json"),
            InvalidRecord("only whitespace", " \n\t ", field: nil, code: "invalid_json"),
            InvalidRecord("truncated", String(Records.total.dropLast()), field: nil, code: "invalid_json"),
            InvalidRecord("truncated inside a string", String(Records.total.prefix(40)), field: nil, code: "invalid_json"),
            InvalidRecord("trailing garbage", Records.total + " x", field: nil, code: "invalid_json"),
            InvalidRecord("two objects", Records.total + Records.total, field: nil, code: "invalid_json"),
            InvalidRecord("trailing comma", Records.total(adding: ""), field: nil, code: "invalid_json"),
            InvalidRecord("byte order mark", [0xEF, 0xBB, 0xBF] + Array(Records.total.utf8), field: nil, code: "invalid_json"),
            InvalidRecord("comment", "/* c */" + Records.total, field: nil, code: "invalid_json"),
            InvalidRecord("single quotes", Records.total(replacing: #""metric":"cites""#, with: #"'metric':"cites""#), field: nil, code: "invalid_json"),
            InvalidRecord("unquoted key", Records.total(replacing: #""metric":"#, with: "metric:"), field: nil, code: "invalid_json"),
            InvalidRecord("missing colon", Records.total(replacing: #""metric":"#, with: #""metric" "#), field: nil, code: "invalid_json"),
            InvalidRecord("leading zero", Records.total(replacing: #""value":31"#, with: #""value":031"#), field: nil, code: "invalid_json"),
            InvalidRecord("NaN", Records.total(replacing: #""value":31"#, with: #""value":NaN"#), field: nil, code: "invalid_json"),
            InvalidRecord("bare minus", Records.total(replacing: #""value":31"#, with: #""value":-"#), field: nil, code: "invalid_json"),
            InvalidRecord("fraction without digits", Records.total(replacing: #""value":31"#, with: #""value":31."#), field: nil, code: "invalid_json"),
            InvalidRecord("misspelt literal", Records.total(adding: #""meta":{"a":tru}"#), field: nil, code: "invalid_json"),
            InvalidRecord("invalid UTF-8 byte", totalBytes(replacingSubjWith: [0xFF]), field: nil, code: "invalid_json"),
            InvalidRecord("overlong UTF-8", totalBytes(replacingSubjWith: [0xC0, 0xAF]), field: nil, code: "invalid_json"),
            InvalidRecord("UTF-8 encoded surrogate", totalBytes(replacingSubjWith: [0xED, 0xA0, 0x80]), field: nil, code: "invalid_json"),
            InvalidRecord("truncated UTF-8", totalBytes(replacingSubjWith: [0xE2, 0x82]), field: nil, code: "invalid_json"),
            InvalidRecord("above U+10FFFF", totalBytes(replacingSubjWith: [0xF4, 0x90, 0x80, 0x80]), field: nil, code: "invalid_json"),
            InvalidRecord("raw tab in a string", totalBytes(replacingSubjWith: [0x09]), field: nil, code: "invalid_json"),
            InvalidRecord("raw newline in a string", totalBytes(replacingSubjWith: [0x0A]), field: nil, code: "invalid_json"),
            InvalidRecord("unknown escape", Records.total(adding: #""subj":"a\x""#), field: nil, code: "invalid_json"),
            InvalidRecord("short \\u escape", Records.total(adding: #""subj":"\u12""#), field: nil, code: "invalid_json"),
            InvalidRecord("lone high surrogate", Records.total(adding: #""subj":"\ud83d""#), field: nil, code: "invalid_json"),
            InvalidRecord("high surrogate then letter", Records.total(adding: #""subj":"\ud83dx""#), field: nil, code: "invalid_json"),
            InvalidRecord("two high surrogates", Records.total(adding: #""subj":"\ud83d\ud83d""#), field: nil, code: "invalid_json"),
            InvalidRecord("lone low surrogate", Records.total(adding: #""subj":"\ude00""#), field: nil, code: "invalid_json"),
            InvalidRecord(
                "syntax error wins over an earlier schema error",
                Records.total(replacing: #""value":31"#, with: #""value":"31""#) + "}", field: nil, code: "invalid_json"),
            // Not an object at all.
            InvalidRecord("array at top level", "[1,2]", field: nil, code: "wrong_type"),
            InvalidRecord("string at top level", #""event""#, field: nil, code: "wrong_type"),
            InvalidRecord("nesting too deep in an unknown field", Records.total(adding: #""x":"# + nestedMeta(40)), field: nil, code: "nesting_too_deep"),
            // Fields.
            InvalidRecord("unknown field", Records.total(adding: #""foo":1"#), field: "foo", code: "unknown_field"),
            InvalidRecord("unknown field differing in case", Records.total(adding: #""Value":1"#), field: "Value", code: "unknown_field"),
            InvalidRecord("duplicate field", Records.total(adding: #""value":32"#), field: "value", code: "duplicate_field"),
            InvalidRecord("duplicate field spelt with an escape", Records.total(adding: #""v\u0061lue":32"#), field: "value", code: "duplicate_field"),
            InvalidRecord("missing schema_version", Records.total(replacing: #""schema_version":1,"#, with: ""), field: "schema_version", code: "missing_field"),
            InvalidRecord("missing kind", Records.total(replacing: #""kind":"total","#, with: ""), field: "kind", code: "missing_field"),
            InvalidRecord("missing source", Records.total(replacing: #""source":"crossref","#, with: ""), field: "source", code: "missing_field"),
            InvalidRecord("missing work", Records.total(replacing: #""work":"10.1371/journal.pone.0000308","#, with: ""), field: "work", code: "missing_field"),
            InvalidRecord("missing metric", Records.total(replacing: #""metric":"cites","#, with: ""), field: "metric", code: "missing_field"),
            InvalidRecord("missing value", Records.total(replacing: #""value":31,"#, with: ""), field: "value", code: "missing_field"),
            InvalidRecord("missing observed_at", Records.total(replacing: #","observed_at":"2026-03-02T00:00:00Z""#, with: ""), field: "observed_at", code: "missing_field"),
            InvalidRecord("empty object", "{}", field: "schema_version", code: "missing_field"),
            InvalidRecord("event without id", Records.event(replacing: #""id":"e-1","#, with: ""), field: "id", code: "missing_field"),
            InvalidRecord("event without occurred_at", Records.event(replacing: #""occurred_at":"2026-03-02T11:04:09Z","#, with: ""), field: "occurred_at", code: "missing_field"),
            InvalidRecord("count without period", Records.total(replacing: #""kind":"total""#, with: #""kind":"count""#), field: "period", code: "missing_field"),
            // Types.
            InvalidRecord("value as a string", Records.total(replacing: #""value":31"#, with: #""value":"31""#), field: "value", code: "wrong_type"),
            InvalidRecord("value true", Records.total(replacing: #""value":31"#, with: #""value":true"#), field: "value", code: "wrong_type"),
            InvalidRecord("value null", Records.total(replacing: #""value":31"#, with: #""value":null"#), field: "value", code: "wrong_type"),
            InvalidRecord("value with a fraction", Records.total(replacing: #""value":31"#, with: #""value":31.0"#), field: "value", code: "wrong_type"),
            InvalidRecord("value with an exponent", Records.total(replacing: #""value":31"#, with: #""value":3e1"#), field: "value", code: "wrong_type"),
            InvalidRecord("value an array", Records.total(replacing: #""value":31"#, with: #""value":[31]"#), field: "value", code: "wrong_type"),
            InvalidRecord("source a number", Records.total(replacing: #""source":"crossref""#, with: #""source":7"#), field: "source", code: "wrong_type"),
            InvalidRecord("id a number", Records.event(replacing: #""id":"e-1""#, with: #""id":1"#), field: "id", code: "wrong_type"),
            InvalidRecord("obj null", Records.total(adding: #""obj":null"#), field: "obj", code: "wrong_type"),
            InvalidRecord("kind a number", Records.total(replacing: #""kind":"total""#, with: #""kind":1"#), field: "kind", code: "wrong_type"),
            InvalidRecord("schema_version as a string", Records.total(replacing: #""schema_version":1"#, with: #""schema_version":"1""#), field: "schema_version", code: "wrong_type"),
            InvalidRecord("schema_version 1.0", Records.total(replacing: #""schema_version":1"#, with: #""schema_version":1.0"#), field: "schema_version", code: "wrong_type"),
            InvalidRecord("meta a string", Records.total(adding: #""meta":"{}""#), field: "meta", code: "wrong_type"),
            InvalidRecord("meta an array", Records.total(adding: #""meta":[]"#), field: "meta", code: "wrong_type"),
            // Values.
            InvalidRecord("schema_version 2", Records.total(replacing: #""schema_version":1"#, with: #""schema_version":2"#), field: "schema_version", code: "unsupported_schema_version"),
            InvalidRecord("schema_version 0", Records.total(replacing: #""schema_version":1"#, with: #""schema_version":0"#), field: "schema_version", code: "unsupported_schema_version"),
            InvalidRecord("schema_version -1", Records.total(replacing: #""schema_version":1"#, with: #""schema_version":-1"#), field: "schema_version", code: "unsupported_schema_version"),
            InvalidRecord("schema_version of 20 nines", Records.total(replacing: #""schema_version":1"#, with: #""schema_version":99999999999999999999"#), field: "schema_version", code: "unsupported_schema_version"),
            InvalidRecord("negative value", Records.total(replacing: #""value":31"#, with: #""value":-3"#), field: "value", code: "out_of_range"),
            InvalidRecord("value 2^53", Records.total(replacing: #""value":31"#, with: #""value":9007199254740992"#), field: "value", code: "out_of_range"),
            InvalidRecord("value 18446744073709551615", Records.total(replacing: #""value":31"#, with: #""value":18446744073709551615"#), field: "value", code: "out_of_range"),
            InvalidRecord("value 18446744073709551619", Records.total(replacing: #""value":31"#, with: #""value":18446744073709551619"#), field: "value", code: "out_of_range"),
            InvalidRecord("value beyond UInt64", Records.total(replacing: #""value":31"#, with: #""value":123456789012345678901234567890"#), field: "value", code: "out_of_range"),
            InvalidRecord("kind not in the enum", Records.total(replacing: #""kind":"total""#, with: #""kind":"Total""#), field: "kind", code: "invalid_enum_value"),
            InvalidRecord("action not in the enum", Records.total(adding: #""action":"remove""#), field: "action", code: "invalid_enum_value"),
            InvalidRecord("source upper case", Records.total(replacing: #""source":"crossref""#, with: #""source":"Crossref""#), field: "source", code: "bad_pattern"),
            InvalidRecord("source starting with a dash", Records.total(replacing: #""source":"crossref""#, with: #""source":"-x""#), field: "source", code: "bad_pattern"),
            InvalidRecord("source empty", Records.total(replacing: #""source":"crossref""#, with: #""source":"""#), field: "source", code: "bad_pattern"),
            InvalidRecord("source 65 characters", Records.total(replacing: #""source":"crossref""#, with: #""source":"\#(long(65))""#), field: "source", code: "bad_pattern"),
            InvalidRecord("metric with a digit", Records.total(replacing: #""metric":"cites""#, with: #""metric":"cites2""#), field: "metric", code: "bad_pattern"),
            InvalidRecord("metric with a dash", Records.total(replacing: #""metric":"cites""#, with: #""metric":"cited-by""#), field: "metric", code: "bad_pattern"),
            InvalidRecord("work not a DOI", Records.total(replacing: #""work":"10.1371/journal.pone.0000308""#, with: #""work":"pmid:17183631""#), field: "work", code: "invalid_doi"),
            InvalidRecord("work with a space", Records.total(replacing: #""work":"10.1371/journal.pone.0000308""#, with: #""work":"10.1371/journal pone""#), field: "work", code: "invalid_doi"),
            InvalidRecord("work too short", Records.total(replacing: #""work":"10.1371/journal.pone.0000308""#, with: #""work":"10""#), field: "work", code: "too_short"),
            InvalidRecord("work too long", Records.total(replacing: #""work":"10.1371/journal.pone.0000308""#, with: #""work":"10.1234/\#(long(505))""#), field: "work", code: "too_long"),
            InvalidRecord("id empty", Records.event(replacing: #""id":"e-1""#, with: #""id":"""#), field: "id", code: "too_short"),
            InvalidRecord("id 513 characters", Records.event(replacing: #""id":"e-1""#, with: #""id":"\#(long(513))""#), field: "id", code: "too_long"),
            InvalidRecord("obj 2049 characters", Records.total(adding: #""obj":"\#(long(2049))""#), field: "obj", code: "too_long"),
            InvalidRecord("subj 2049 characters", Records.total(adding: #""subj":"\#(long(2049))""#), field: "subj", code: "too_long"),
            InvalidRecord("session 129 characters", Records.total(adding: #""session":"\#(long(129))""#), field: "session", code: "too_long"),
            InvalidRecord("agent 1025 characters", Records.total(adding: #""agent":"\#(long(1025))""#), field: "agent", code: "too_long"),
            InvalidRecord("meta over 8 KiB", Records.total(adding: #""meta":{"a":"\#(long(8200))"}"#), field: "meta", code: "too_long"),
            InvalidRecord("meta nested 33 deep", Records.total(adding: #""meta":"# + nestedMeta(33)), field: "meta", code: "nesting_too_deep"),
            InvalidRecord("observed_at month 13", Records.total(replacing: "2026-03-02T00:00:00Z", with: "2026-13-02T00:00:00Z"), field: "observed_at", code: "invalid_timestamp"),
            InvalidRecord("observed_at without zone", Records.total(replacing: "2026-03-02T00:00:00Z", with: "2026-03-02T00:00:00"), field: "observed_at", code: "invalid_timestamp"),
            InvalidRecord("occurred_at 30 February", Records.event(replacing: "2026-03-02T11:04:09Z", with: "2026-02-30T11:04:09Z"), field: "occurred_at", code: "invalid_timestamp"),
            InvalidRecord("occurred_at a number", Records.event(replacing: #""2026-03-02T11:04:09Z""#, with: "1772449449"), field: "occurred_at", code: "wrong_type"),
            InvalidRecord("period month 13", Records.total(adding: #""period":"2026-13""#), field: "period", code: "invalid_period"),
            InvalidRecord("period with slashes", Records.total(adding: #""period":"2026/01""#), field: "period", code: "invalid_period"),
            InvalidRecord("period 31 April", Records.total(adding: #""period":"2026-04-31""#), field: "period", code: "invalid_period"),
            // The first schema problem in document order is the one reported.
            InvalidRecord(
                "first of two schema errors",
                Records.total(replacing: #""source":"crossref""#, with: #""source":"X""#).replacing(#""value":31"#, with: #""value":-1"#),
                field: "source", code: "bad_pattern"),
        ]
    }()

    @Test func invalidTableIsAsLargeAsPromised() {
        #expect(Self.invalidRecords.count >= 25)
    }

    @Test(arguments: invalidRecords)
    func rejectsInvalidRecord(_ record: InvalidRecord) {
        do {
            let event = try RawEventDecoder.decode(record.bytes)
            Issue.record("accepted: \(event)")
        } catch {
            #expect(error.field == record.field, "\(error)")
            #expect(error.code == record.code, "\(error)")
            #expect(!error.message.isEmpty)
        }
    }

    @Test(arguments: [
        (Records.total(replacing: #""value":31"#, with: #""value":-3"#), "value: expected an integer between 0 and 9007199254740991, got -3"),
        (Records.total(replacing: #""value":31"#, with: #""value":1.5"#), "value: expected an integer between 0 and 9007199254740991, got 1.5"),
        (Records.total(replacing: #""value":31"#, with: #""value":"31""#), "value: expected an integer between 0 and 9007199254740991, got a string"),
        (Records.total(replacing: #""schema_version":1"#, with: #""schema_version":2"#), "schema_version: unsupported schema version 2; this decoder reads version 1"),
        (Records.total(replacing: #""value":31,"#, with: ""), "value: required field is missing"),
        (Records.event(replacing: #""id":"e-1","#, with: ""), "id: required when kind is \"event\""),
        (Records.total(adding: #""foo":1"#), "foo: unknown field (the schema allows no other fields)"),
        (Records.total(replacing: #""kind":"total""#, with: #""kind":"sum""#), #"kind: expected one of "event", "total", "count", got "sum""#),
        (Records.total(replacing: #""source":"crossref""#, with: #""source":"Crossref""#), #"source: must match ^[a-z0-9][a-z0-9_-]{0,63}$, got "Crossref""#),
        (Records.total(replacing: #""work":"10.1371/journal.pone.0000308""#, with: #""work":"pmid:1""#), #"work: DOI must start with "10." (after an optional "doi:" or https://doi.org/ prefix), got "pmid:1""#),
        (Records.total(replacing: "2026-03-02T00:00:00Z", with: "2026-13-02T00:00:00Z"), #"observed_at: expected an RFC 3339 date-time such as 2026-03-02T11:04:09Z, got "2026-13-02T00:00:00Z" (no such date)"#),
        (Records.total(adding: #""period":"2026-13""#), #"period: expected YYYY-MM or YYYY-MM-DD, got "2026-13" (month must be 01–12)"#),
        (Records.total(adding: #""obj":"\#(String(repeating: "é", count: 2049))""#), "obj: must be at most 2048 characters long, got 2049"),
        ("[1]", "expected a JSON object, got an array"),
        (#"{"schema_version":1,}"#, #"invalid JSON at byte 20: expected a field name in double quotes, found "}""#),
        ("", "invalid JSON at byte 0: empty input"),
    ])
    func messagesNameTheFieldAndTheProblem(record: String, message: String) {
        do {
            let event = try RawEventDecoder.decode(record)
            Issue.record("accepted: \(event)")
        } catch {
            #expect(error.description == message)
        }
    }

    // MARK: - Accepted edge cases

    @Test func acceptsEscapesInNamesAndValues() throws {
        let record = #"{"schema_v\u0065rsion":1,"k\u0069nd":"ev\u0065nt","id":"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t\u0000","source":"wikipedia","work":"10.1371\/journal.pmed.0050045","metric":"references","value":1,"action":"d\u0065lete","occurred_at":"2026-03-02T11:04:09Z","observed_at":"2026-03-02T11:04:12Z"}"#
        let event = try RawEventDecoder.decode(record)
        #expect(event.kind == .event)
        #expect(event.action == .delete)
        #expect(event.id == "é😀\"\\/\u{8}\u{C}\n\r\t\u{0}")
        #expect(event.work == "10.1371/journal.pmed.0050045")
    }

    @Test func acceptsInsignificantWhitespace() throws {
        let record = " \n{ \"schema_version\" : 1 ,\t\"kind\":\"total\",\r\n\"source\":\"crossref\", \"work\" :\"10.1371/journal.pone.0000308\",\"metric\":\"cites\",\"value\": 31 ,\"observed_at\":\"2026-03-02T00:00:00Z\" , \"meta\" : { \"a\" : [ 1 , { } , [ ] , null , true , false , -0.5e+3 , \"x\" ] } } \n"
        let event = try RawEventDecoder.decode(record)
        #expect(event.value == 31)
        #expect(event.meta == #"{ "a" : [ 1 , { } , [ ] , null , true , false , -0.5e+3 , "x" ] }"#)
    }

    @Test func normalizesWork() throws {
        let record = Records.total(
            replacing: #""work":"10.1371/journal.pone.0000308""#, with: #""work":"https://doi.org/10.1371/JOURNAL.PONE.0000308""#)
        #expect(try RawEventDecoder.decode(record).work == "10.1371/journal.pone.0000308")
    }

    @Test func acceptsTheLimits() throws {
        let maximum = Records.total(replacing: #""value":31"#, with: #""value":9007199254740991"#)
        #expect(try RawEventDecoder.decode(maximum).value == 9_007_199_254_740_991)
        let negativeZero = Records.total(replacing: #""value":31"#, with: #""value":-0"#)
        #expect(try RawEventDecoder.decode(negativeZero).value == 0)
        // Lengths count characters (Unicode scalars, as JSON Schema does), not bytes.
        let wideID = String(repeating: "é", count: 512)
        let event = try RawEventDecoder.decode(Records.event(replacing: #""id":"e-1""#, with: #""id":"\#(wideID)""#))
        #expect(event.id == wideID)
        let deepMeta = String(repeating: #"{"a":"#, count: 31) + "[]" + String(repeating: "}", count: 31)
        #expect(try RawEventDecoder.decode(Records.total(adding: #""meta":"# + deepMeta)).meta == deepMeta)
        let bigMeta = #"{"a":""# + String(repeating: "x", count: 8192 - 8) + #""}"#
        #expect(bigMeta.utf8.count == 8192)
        #expect(try RawEventDecoder.decode(Records.total(adding: #""meta":"# + bigMeta)).meta == bigMeta)
    }

    @Test func acceptsOptionalFieldsOnEveryKind() throws {
        // `period` on a total and `session` on a non-usage event are allowed by the schema.
        let event = try RawEventDecoder.decode(Records.total(adding: #""period":"2026-01-31","session":"","agent":"""#))
        #expect(event.period?.day == 31)
        #expect(event.session == "")
    }

    @Test func decodesFromARawBuffer() throws {
        let bytes = Array(Records.total.utf8)
        let event = try bytes.withUnsafeBytes { try RawEventDecoder.decode($0) }
        #expect(event.value == 31)
    }
}
