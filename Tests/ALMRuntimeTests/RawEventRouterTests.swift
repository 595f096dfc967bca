@testable import ALMRuntime
import Foundation
import Kafka
import Testing

@Suite("routing raw events to topics")
struct RawEventRouterTests {
    let router: RawEventRouter

    init() throws {
        router = try RawEventRouter(declarations: try TopicDeclarations.load(file: projectRoot.appendingPathComponent("topics.yaml")))
    }

    static let examples = projectRoot.deletingLastPathComponent().appendingPathComponent("shared/spec/examples")

    @Test("every example of the spec goes to its source's raw topic, keyed by the normalised work id, unchanged")
    func examples() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.examples.path).filter { $0.hasSuffix(".json") }
        #expect(files.count == 5)
        for file in files {
            let bytes = Array(try Data(contentsOf: Self.examples.appendingPathComponent(file)))
                .filter { $0 != UInt8(ascii: "\n") }
            guard case .accepted(let record, let event) = router.route(bytes, origin: file) else {
                Issue.record("\(file) rejected")
                continue
            }
            #expect(record.topic == "alm.raw.\(event.source)")
            #expect(record.key == Array(event.work.utf8))
            #expect(record.value == bytes, "raw records are produced as given")
        }
    }

    @Test("a work id in another form is keyed by its normalised DOI")
    func normalisedKey() {
        let line = #"{"schema_version":1,"kind":"total","source":"crossref","work":"https://doi.org/10.1371/JOURNAL.PONE.0000308","metric":"cites","value":31,"observed_at":"2026-03-02T00:00:00Z"}"#
        guard case .accepted(let record, _) = router.route(Array(line.utf8), origin: "x") else {
            Issue.record("rejected")
            return
        }
        #expect(record.key == Array("10.1371/journal.pone.0000308".utf8))
    }

    @Test("invalid events go to alm.dlq unchanged, with code, field, message and origin headers", arguments: [
        (#"{"schema_version":1,"kind":"total","source":"crossref","work":"10.1/x","metric":"cites","value":-3,"observed_at":"2026-03-02T00:00:00Z"}"#, "value"),
        (#"{"schema_version":1,"kind":"total","source":"crossref","work":"pmid:123","metric":"cites","value":3,"observed_at":"2026-03-02T00:00:00Z"}"#, "work"),
        (#"{"schema_version":1,"kind":"total","source":"nosuchsource","work":"10.1/x","metric":"cites","value":3,"observed_at":"2026-03-02T00:00:00Z"}"#, "source"),
        (#"{"schema_version":1,"kind":"count","source":"counter","work":"10.1/x","metric":"views","value":3,"observed_at":"2026-03-02T00:00:00Z"}"#, "period"),
        (#"{"schema_version":1,"kind":"total""#, nil),
    ])
    func rejected(line: String, field: String?) {
        let route = router.route(Array(line.utf8), origin: "input.jsonl:7")
        guard case .rejected(let record, let code, let message) = route else {
            Issue.record("accepted: \(line)")
            return
        }
        #expect(record.topic == "alm.dlq")
        #expect(record.value == Array(line.utf8))
        #expect(record.headers.first { $0.name == DeadLetterHeader.code }?.stringValue == code)
        #expect(record.headers.first { $0.name == DeadLetterHeader.message }?.stringValue == message)
        #expect(record.headers.first { $0.name == DeadLetterHeader.origin }?.stringValue == "input.jsonl:7")
        #expect(record.headers.first { $0.name == DeadLetterHeader.field }?.stringValue == field)
        if field == "source" { #expect(code == "unknown_source") }
        if let field { #expect(message.hasPrefix(field), "the message names the field: \(message)") }
    }
}
