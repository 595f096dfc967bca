import CRdKafka

/// The one error type of the Kafka module. Callers match on `code` without importing librdkafka.
public struct KafkaError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: Hashable, Sendable {
            case configuration
            case client
            case librdkafka(Int32)
            case topicMismatch
            case timeout
            case closed
        }
        fileprivate let base: Base

        /// A property the client rejected (unknown key or invalid value).
        public static let configuration = Code(base: .configuration)
        /// A client could not be created or used.
        public static let client = Code(base: .client)
        /// A topic on the broker differs from its declaration.
        public static let topicMismatch = Code(base: .topicMismatch)
        public static let timeout = Code(base: .timeout)
        /// The client was already closed.
        public static let closed = Code(base: .closed)
        /// An error code reported by librdkafka (`rd_kafka_resp_err_t`).
        public static func librdkafka(_ raw: Int32) -> Code { Code(base: .librdkafka(raw)) }

        public static let queueFull = librdkafka(RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue)
        public static let topicAlreadyExists = librdkafka(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS.rawValue)
        public static let unknownTopicOrPartition = librdkafka(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART.rawValue)
        public static let messageTimedOut = librdkafka(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue)

        /// The librdkafka error code, when this code is one.
        public var librdkafkaCode: Int32? {
            if case .librdkafka(let raw) = base { return raw }
            return nil
        }

        public var description: String {
            switch base {
            case .configuration: "configuration"
            case .client: "client"
            case .topicMismatch: "topic_mismatch"
            case .timeout: "timeout"
            case .closed: "closed"
            case .librdkafka(let raw): String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(raw)))
            }
        }
    }

    public let code: Code
    public let message: String
    /// librdkafka says retrying the operation may succeed.
    public let isRetriable: Bool

    public init(_ code: Code, _ message: String, isRetriable: Bool = false) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable
    }

    public var description: String { "\(code): \(message)" }

    init(_ err: rd_kafka_resp_err_t, context: String? = nil) {
        let text = String(cString: rd_kafka_err2str(err))
        self.init(.librdkafka(err.rawValue), context.map { "\($0): \(text)" } ?? text)
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer, context: String? = nil) {
        let code = rd_kafka_error_code(error)
        let text = String(cString: rd_kafka_error_string(error))
        let retriable = rd_kafka_error_is_retriable(error) != 0
        rd_kafka_error_destroy(error)
        self.init(.librdkafka(code.rawValue), context.map { "\($0): \(text)" } ?? text, isRetriable: retriable)
    }

    static func check(_ err: rd_kafka_resp_err_t, _ context: @autoclosure () -> String) throws(KafkaError) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: context()) }
    }
}
