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
        let expectedTopic = TopicDeclarations.rawTopicPrefix + event.source
        guard record.topic == expectedTopic else {
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

    /// The field and message of a late usage record's dead letter.
    public static func lateness(of event: RawEvent, horizon: Int64) -> (field: String, message: String) {
        let occurred = event.occurredAt?.text ?? event.observedAt.text
        let limit = Timestamp(microsecondsSinceEpoch: horizon)?.text ?? "\(horizon) µs"
        return ("occurred_at", "occurred_at \(occurred) is before the usage horizon \(limit) of source \(event.source) "
            + "(its latest usage event minus processor.usage_lateness_seconds); the request can no longer be deduplicated exactly")
    }

    /// The record for `alm.dlq`: the input unchanged (key and value), with where it came from and why.
    public static func deadLetter(for record: ConsumerRecord, code: String, field: String?, message: String,
                                  topic: String) -> ProducerRecord {
        var headers = record.headers
        headers.append(KafkaHeader(name: DeadLetterHeader.code, string: code))
        headers.append(KafkaHeader(name: DeadLetterHeader.message, string: message))
        if let field { headers.append(KafkaHeader(name: DeadLetterHeader.field, string: field)) }
        headers.append(KafkaHeader(name: DeadLetterHeader.origin, string: "\(record.topic)[\(record.partition)]@\(record.offset)"))
        headers.append(KafkaHeader(name: DeadLetterSourceHeader.topic, string: record.topic))
        headers.append(KafkaHeader(name: DeadLetterSourceHeader.partition, string: String(record.partition)))
        headers.append(KafkaHeader(name: DeadLetterSourceHeader.offset, string: String(record.offset)))
        return ProducerRecord(topic: topic, key: record.key, value: record.value, headers: headers,
                              timestampMs: record.timestampMs)
    }
}
