import ALMCore
import Kafka

/// Headers of a record in `alm.dlq`. The value is the rejected input, unchanged.
public enum DeadLetterHeader {
    /// Stable reason code, e.g. `missing_field`, `invalid_doi`, `unknown_source`.
    public static let code = "alm.error.code"
    /// The JSON field at fault, when there is one.
    public static let field = "alm.error.field"
    /// What is wrong, for a person.
    public static let message = "alm.error.message"
    /// Where the input came from: `topic[partition]@offset`, or `file:line` for files.
    public static let origin = "alm.origin"
    /// Present when the dead letter carries only the start of an oversized input: what was cut, from what size.
    public static let truncated = "alm.dlq.truncated"
}

/// Decides where one raw event goes: its source's raw topic, keyed by the normalised work id, or the
/// dead-letter topic with the reason in headers. Pure: no Kafka calls.
public struct RawEventRouter: Sendable {
    public enum Route: Sendable {
        case accepted(ProducerRecord, RawEvent)
        case rejected(ProducerRecord, code: String, message: String)

        public var record: ProducerRecord {
            switch self {
            case .accepted(let record, _), .rejected(let record, _, _): record
            }
        }
    }

    public let rawTopics: Set<String>
    public let deadLetterTopic: String

    public init(declarations: TopicDeclarations, deadLetterTopic: String = "alm.dlq") throws(ConfigurationError) {
        guard declarations[deadLetterTopic] != nil else {
            throw ConfigurationError("topics.yaml declares no dead-letter topic \(deadLetterTopic)")
        }
        self.rawTopics = Set(declarations.rawTopics.map(\.name))
        self.deadLetterTopic = deadLetterTopic
    }

    public func route(_ bytes: [UInt8], origin: String) -> Route {
        let event: RawEvent
        do {
            event = try RawEventDecoder.decode(bytes)
        } catch {
            return reject(bytes, origin: origin, code: error.code, field: error.field, message: error.description)
        }
        let topic = TopicDeclarations.rawTopicPrefix + event.source
        guard rawTopics.contains(topic) else {
            return reject(bytes, origin: origin, code: "unknown_source", field: "source",
                          message: "source: no topic \(topic) is declared in topics.yaml")
        }
        return .accepted(ProducerRecord(topic: topic, key: Array(event.work.utf8), value: bytes), event)
    }

    private func reject(_ bytes: [UInt8], origin: String, code: String, field: String?, message: String) -> Route {
        var headers = [KafkaHeader(name: DeadLetterHeader.code, string: code),
                       KafkaHeader(name: DeadLetterHeader.message, string: message),
                       KafkaHeader(name: DeadLetterHeader.origin, string: origin)]
        if let field { headers.append(KafkaHeader(name: DeadLetterHeader.field, string: field)) }
        return .rejected(ProducerRecord(topic: deadLetterTopic, key: nil, value: bytes, headers: headers),
                         code: code, message: message)
    }
}
