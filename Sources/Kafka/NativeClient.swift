import CRdKafka
import Dispatch
import Logging

/// What librdkafka's callbacks reach through the handle's opaque pointer.
final class ClientContext: @unchecked Sendable {
    let logger: Logger
    /// Set once before the handle exists, read from librdkafka's threads afterwards.
    var onDelivery: ((UnsafePointer<rd_kafka_message_t>) -> Void)?
    var onRebalance: ((OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?

    init(logger: Logger) { self.logger = logger }
}

/// Owns one `rd_kafka_t` and the serial queue on which its blocking calls run, so they never
/// occupy Swift's cooperative thread pool.
final class NativeClient: @unchecked Sendable {
    let handle: OpaquePointer
    let context: ClientContext
    let queue: DispatchQueue
    private let contextReference: Unmanaged<ClientContext>

    init(role: ClientRole, configuration: KafkaConfiguration, logger: Logger,
         configure: (ClientContext, OpaquePointer) -> Void = { _, _ in }) throws(KafkaError) {
        let context = ClientContext(logger: logger)
        let conf = try configuration.makeNative(for: role)
        let reference = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, reference.toOpaque())
        rd_kafka_conf_set_log_cb(conf, logCallback)
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        configure(context, conf)

        var errorText = [CChar](repeating: 0, count: 512)
        let type = role == .consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER
        // rd_kafka_new takes ownership of conf only on success.
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            reference.release()
            let reason = textOfCBuffer(errorText)
            throw KafkaError(.client, "cannot create Kafka client: \(reason)")
        }
        self.handle = handle
        self.context = context
        self.contextReference = reference
        self.queue = DispatchQueue(label: "alm.kafka.\(role)")
    }

    /// Runs a blocking librdkafka call on this client's own queue.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(KafkaError) { continuation.resume(returning: .success(try body())) }
                catch { continuation.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }

    /// Destroys the handle; callbacks stop before the context they use is released.
    func destroy() {
        rd_kafka_destroy(handle)
        contextReference.release()
    }
}

func clientContext(_ rk: OpaquePointer?) -> ClientContext? {
    guard let rk, let opaque = rd_kafka_opaque(rk) else { return nil }
    return Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
}

private let logCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    rk, level, facility, message in
    guard let context = clientContext(rk) else { return }
    // syslog levels: 0 emerg ... 7 debug
    let swiftLevel: Logger.Level = switch level {
    case ...3: .error
    case 4: .warning
    case 5, 6: .info
    default: .debug
    }
    context.logger.log(
        level: swiftLevel,
        "\(message.map { String(cString: $0) } ?? "")",
        metadata: ["kafka.facility": "\(facility.map { String(cString: $0) } ?? "")"])
}

private let errorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    rk, err, reason, _ in
    guard let context = clientContext(rk) else { return }
    let code = rd_kafka_resp_err_t(err)
    let text = reason.map { String(cString: $0) } ?? String(cString: rd_kafka_err2str(code))
    // Transport errors while a broker is unreachable are retried by librdkafka on its own.
    let level: Logger.Level = code == RD_KAFKA_RESP_ERR__FATAL ? .critical : .warning
    context.logger.log(level: level, "\(text)", metadata: ["kafka.error": "\(String(cString: rd_kafka_err2name(code)))"])
}

/// The librdkafka version this binary runs with (not the one it was compiled against).
public enum Librdkafka {
    public static var version: String { String(cString: rd_kafka_version_str()) }
    public static var versionNumber: Int32 { rd_kafka_version() }
}

// MARK: - Topic partition lists

extension Array where Element == TopicPartitionOffset {
    /// A new `rd_kafka_topic_partition_list_t`; the caller destroys it.
    func makeNativeList() -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(count))!
        for item in self {
            let element = rd_kafka_topic_partition_list_add(list, item.topic, item.partition)!
            element.pointee.offset = item.offset
        }
        return list
    }
}

extension Array where Element == TopicPartition {
    func makeNativeList() -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        map { TopicPartitionOffset($0, offset: TopicPartitionOffset.invalid) }.makeNativeList()
    }
}

func topicPartitionOffsets(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartitionOffset] {
    (0..<Int(list.pointee.cnt)).map { i in
        let element = list.pointee.elems[i]
        return TopicPartitionOffset(String(cString: element.topic), element.partition, offset: element.offset)
    }
}

/// The first per-partition error of a list that librdkafka filled in, if any.
func firstPartitionError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> KafkaError? {
    for i in 0..<Int(list.pointee.cnt) {
        let element = list.pointee.elems[i]
        if element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            return KafkaError(element.err, context: "\(String(cString: element.topic))[\(element.partition)]")
        }
    }
    return nil
}

/// The NUL-terminated text librdkafka wrote into an error buffer.
func textOfCBuffer(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
