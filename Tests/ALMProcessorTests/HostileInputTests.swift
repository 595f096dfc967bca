import ALMProcessor
import ALMTestSupport
import ALMWorkload
import DevBroker
import Foundation
import Testing

@testable import Kafka

/// Hostile input in a valid stream: every bad record lands in `alm.dlq` with a reason, nothing crashes,
/// and the valid records' numbers are exactly what they would be without it.
@Suite("hostile input", .serialized, .timeLimit(.minutes(5)))
struct HostileInputTests {
    static let work = "10.5555/alm.1"

    /// A valid crossref event (as produced to alm.raw.crossref with the key `work`), with one field set.
    static func record(_ index: Int, set field: String? = nil, to raw: String = "") -> [UInt8] {
        var fields: [(String, String)] = [
            ("schema_version", "1"), ("kind", #""event""#), ("id", #""hostile-\#(index)""#), ("source", #""crossref""#),
            ("work", #""\#(work)""#), ("subj", #""https://example.org/\#(index)""#), ("metric", #""cites""#), ("value", "1"),
            ("occurred_at", #""2026-01-01T00:00:00Z""#), ("observed_at", #""2026-01-01T00:00:00Z""#),
        ]
        if let field {
            if let at = fields.firstIndex(where: { $0.0 == field }) { fields[at].1 = raw } else { fields.append((field, raw)) }
        }
        return Array(("{" + fields.map { #""\#($0.0)":\#($0.1)"# }.joined(separator: ",") + "}").utf8)
    }

    /// 1 000 records of twelve hostile kinds, two of them with a 10 MB field.
    static func hostileRecords() -> [(kind: String, value: [UInt8])] {
        let injections = ["'; DROP TABLE records; --", "<script>alert(1)</script>", "../../../etc/passwd", "10.1234",
                          "javascript:alert(1)", #"10.1234/\u0000x"#, "10.1234/a\\nb", "${jndi:ldap://x}"]
        let tenMegabytes = String(repeating: "A", count: 10 * 1024 * 1024)
        var nested = ""
        for _ in 0..<10_000 { nested += #"{"a":"# }
        nested += "1" + String(repeating: "}", count: 10_000)
        return (0..<1_000).map { index in
            switch index % 12 {
            case 0:
                let whole = record(index)
                return ("truncated", Array(whole.prefix(1 + index % (whole.count - 2))))
            case 1:
                var bytes = record(index)
                bytes.insert(contentsOf: [0xC3, 0x28, 0xFF], at: bytes.count - 40)
                return ("invalid UTF-8", bytes)
            case 2: return ("wrong type", record(index, set: "value", to: #""1""#))
            case 3: return ("wrong type", record(index, set: "kind", to: "7"))
            case 4: return ("deeply nested meta", record(index, set: "meta", to: nested))
            case 5: return ("control character", record(index, set: "subj", to: "\"https://example.org/\u{01}\(index)\""))
            case 6: return ("injection in the DOI", record(index, set: "work", to: "\"\(injections[index / 12 % injections.count])\""))
            case 7: return ("negative number", record(index, set: "value", to: "-\(index + 1)"))
            case 8: return ("huge number", record(index, set: "value", to: index % 24 == 8 ? "1e400" : "18446744073709551616"))
            case 9: return ("unknown kind", record(index, set: "kind", to: #""gauge""#))
            case 10:
                // Two records carry 10 MB in a field; the others an id far past its 512-byte limit.
                let size = index == 10 || index == 502 ? tenMegabytes : String(repeating: "i", count: 4_096)
                return ("huge field", record(index, set: index == 10 ? "subj" : "id", to: "\"\(size)\""))
            default: return ("not an event", Array(["[]", "null", "{}", #"{"schema_version":2}"#][index / 12 % 4].utf8))
            }
        }
    }

    @Test("every hostile kind is rejected by the intake on its own")
    func eachKindIsRejected() {
        for (index, hostile) in Self.hostileRecords().enumerated() {
            let consumed = ConsumerRecord(topic: "alm.raw.crossref", partition: 0, offset: Int64(index), key: Array(Self.work.utf8),
                                          value: hostile.value, headers: [], timestampMs: nil)
            guard case .rejected(let code, _, let message) = RecordIntake.examine(consumed) else {
                Issue.record("\(hostile.kind) #\(index) was accepted: \(String(decoding: hostile.value.prefix(300), as: UTF8.self))")
                continue
            }
            #expect(!code.isEmpty && !message.isEmpty)
        }
    }

    @Test("1 000 hostile records mixed into a valid stream all land in alm.dlq with reasons; the valid records are all counted")
    func mixedIntoValidStream() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                let valid = Workload(WorkloadSpec(records: 8_000, works: 300, seed: 41, malformedRate: 0)).all()
                let hostile = Self.hostileRecords()
                // Valid, hostile, valid: the bad records sit between good ones in the same partitions.
                let producer = try KafkaProducer(configuration: KafkaConfiguration([
                    "bootstrap.servers": broker.bootstrapServers, "message.max.bytes": "16777216",
                ]), logger: testLogger)
                let half = valid.count / 2
                _ = try await producer.sendAll(valid[..<half].map { ProducerRecord(topic: $0.topic, key: $0.key, value: $0.value) })
                _ = try await producer.sendAll(hostile.map { ProducerRecord(topic: "alm.raw.crossref", key: Array(Self.work.utf8), value: $0.value) })
                _ = try await producer.sendAll(valid[half...].map { ProducerRecord(topic: $0.topic, key: $0.key, value: $0.value) })
                try await producer.close()

                var settings = broker.processorSettings(state: dir)
                settings.kafka["fetch.max.bytes"] = "67108864"
                let summary = try await Processor(settings: settings, logger: testLogger).run()
                let expected = try await broker.expected()
                #expect(summary.recordsRejected == hostile.count)
                #expect(summary.recordsProcessed == valid.count - expected.late)

                let dlq = try await broker.readAll(topic: "alm.dlq", partitions: 1)
                #expect(dlq.count == hostile.count + expected.late)
                var reasons: [String: Int] = [:]
                for letter in dlq where letter.header("alm.error.code")?.stringValue != "late" {
                    reasons[letter.header("alm.error.code")?.stringValue ?? "none", default: 0] += 1
                    #expect(letter.header("alm.error.message")?.stringValue?.isEmpty == false)
                }
                #expect(reasons["none"] == nil)
                #expect(reasons.count >= 5, "\(reasons)")
                // Every hostile record, unchanged; the two 10 MB ones cut to the dead-letter limit, saying so.
                let rejected = Set(dlq.map(\.value))
                #expect(hostile.allSatisfy { rejected.contains(Array($0.value.prefix(RecordIntake.deadLetterValueLimit))) })
                let cut = dlq.filter { $0.header("alm.dlq.truncated") != nil }
                #expect(cut.count == 2)
                #expect(cut.allSatisfy { $0.value.count == RecordIntake.deadLetterValueLimit && $0.header("alm.source.offset") != nil })
                // The numbers are those of the valid records alone (expected() skips what the intake rejects).
                #expect(try snapshotText(dir) == expected.text)
                #expect(expected.text.split(separator: "\n").count > 250)
            }
        }
    }
}
