import ALMCore
import ALMRuntime
import Kafka

/// Headers added to a dead letter by the processor, besides the reason (`DeadLetterHeader`).
public enum DeadLetterSourceHeader {
    public static let topic = "alm.source.topic"
    public static let partition = "alm.source.partition"
    public static let offset = "alm.source.offset"
}

/// Decides, for one raw record, whether it is a valid event for this topic and key, or a dead letter.
/// Pure: the processor and the tests call it directly.
public enum RecordIntake {
    public enum Outcome {
        case valid(RawEvent)
        case rejected(code: String, field: String?, message: String)
    }

    public static func examine(_ record: ConsumerRecord) -> Outcome {
        let event: RawEvent
        do {
            event = try RawEventDecoder.decode(record.value)
        } catch {
            return .rejected(code: error.code, field: error.field, message: error.description)
        }
        guard isRawTopic(record.topic, of: event.source) else {
            return .rejected(code: "source_mismatch", field: "source",
                             message: "source: \(event.source) does not belong in topic \(record.topic)")
        }
        // Co-partitioning rests on the key: a record keyed otherwise than by its normalised work would
        // put the work's state on two partitions.
        guard let key = record.key, key.elementsEqual(event.work.utf8) else {
            return .rejected(code: "key_mismatch", field: "work",
                             message: "work: the record key \(record.keyString.map { "\"\($0)\"" } ?? "(none)") is not the normalised work id \"\(event.work)\"")
        }
        return .valid(event)
    }

    /// True when `topic` is `alm.raw.<source>` (compared as bytes, without building the name per record;
    /// source names are ASCII by the schema).
    static func isRawTopic(_ topic: String, of source: String) -> Bool {
        var prefix = TopicDeclarations.rawTopicPrefix, name = topic, source = source
        return name.withUTF8 { name in
            prefix.withUTF8 { prefix in
                source.withUTF8 { source in
                    name.count == prefix.count + source.count
                        && UnsafeBufferPointer(rebasing: name[..<prefix.count]).elementsEqual(prefix)
                        && UnsafeBufferPointer(rebasing: name[prefix.count...]).elementsEqual(source)
                }
            }
        }
    }

    /// The field and message of a late usage record's dead letter.
    public static func lateness(of event: RawEvent, horizon: Int64) -> (field: String, message: String) {
        let occurred = event.occurredAt?.text ?? event.observedAt.text
        let limit = Timestamp(microsecondsSinceEpoch: horizon)?.text ?? "\(horizon) µs"
        return ("occurred_at", "occurred_at \(occurred) is before the usage horizon \(limit) of source \(event.source) "
            + "(its latest usage event minus processor.usage_lateness_seconds); the request can no longer be deduplicated exactly")
    }

    /// The most of a rejected record's value (and key) a dead letter carries. Kafka refuses records over
    /// about 1 MB by default; a larger hostile record must not stop the processor. The whole record stays
    /// in its raw topic, which the `alm.source.*` headers point to.
    public static let deadLetterValueLimit = 256 * 1024
    static let deadLetterKeyLimit = 1024
    static let deadLetterHeadersLimit = 64 * 1024

    /// The record for `alm.dlq`: the input unchanged (key and value), with where it came from and why.
    /// Beyond the limits above, the key and value are cut and `alm.dlq.truncated` says from what size.
    public static func deadLetter(for record: ConsumerRecord, code: String, field: String?, message: String,
                                  topic: String) -> ProducerRecord {
        let originalHeaderBytes = record.headers.reduce(0) { $0 + $1.name.utf8.count + ($1.value?.count ?? 0) }
        var headers = originalHeaderBytes <= deadLetterHeadersLimit ? record.headers : []
        var truncated: [String] = []
        if record.value.count > deadLetterValueLimit { truncated.append("value \(record.value.count) bytes") }
        if let key = record.key, key.count > deadLetterKeyLimit { truncated.append("key \(key.count) bytes") }
        if originalHeaderBytes > deadLetterHeadersLimit { truncated.append("headers \(originalHeaderBytes) bytes, left out") }
        if !truncated.isEmpty { headers.append(KafkaHeader(name: DeadLetterHeader.truncated, string: truncated.joined(separator: ", "))) }
        headers.append(KafkaHeader(name: DeadLetterHeader.code, string: code))
        headers.append(KafkaHeader(name: DeadLetterHeader.message, string: message))
        if let field { headers.append(KafkaHeader(name: DeadLetterHeader.field, string: field)) }
        headers.append(KafkaHeader(name: DeadLetterHeader.origin, string: "\(record.topic)[\(record.partition)]@\(record.offset)"))
        headers.append(KafkaHeader(name: DeadLetterSourceHeader.topic, string: record.topic))
        headers.append(KafkaHeader(name: DeadLetterSourceHeader.partition, string: String(record.partition)))
        headers.append(KafkaHeader(name: DeadLetterSourceHeader.offset, string: String(record.offset)))
        return ProducerRecord(topic: topic, key: record.key.map { Array($0.prefix(deadLetterKeyLimit)) },
                              value: Array(record.value.prefix(deadLetterValueLimit)), headers: headers,
                              timestampMs: record.timestampMs)
    }
}
