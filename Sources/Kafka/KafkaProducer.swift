import CRdKafka
import Dispatch
import Foundation
import Logging
import Synchronization

/// An idempotent producer. `send` enqueues a batch and returns when the broker has answered for
/// every record of it; a full local queue makes it wait, never drop.
public final class KafkaProducer: Sendable {
    private let client: NativeClient
    private let tracker: DeliveryTracker
    private let poller: PollThread
    private let closed = Atomic<Bool>(false)
    private let logger: Logger

    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        let merged = KafkaConfiguration.defaults.merging(KafkaConfiguration.producerDefaults).merging(configuration)
        let tracker = DeliveryTracker()
        self.client = try NativeClient(role: .producer, configuration: merged, logger: logger) { context, conf in
            context.onDelivery = { message in tracker.complete(message) }
            rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback)
        }
        self.tracker = tracker
        self.logger = logger
        // Delivery reports are served by rd_kafka_poll; this thread calls it for the producer's lifetime.
        let client = self.client
        self.poller = PollThread(name: "alm.kafka.producer.poll") { rd_kafka_poll(client.handle, 100) }
    }

    deinit {
        if !closed.load(ordering: .acquiring) {
            poller.stop()
            client.destroy()
        }
    }

    /// Produces the records and returns one delivery report per record, in the same order.
    public func send(_ records: [ProducerRecord]) async throws(KafkaError) -> [DeliveryReport] {
        guard !closed.load(ordering: .acquiring) else { throw KafkaError(.closed, "producer is closed") }
        guard !records.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let batch = tracker.begin(records: records, continuation: continuation)
            client.queue.async { [self] in
                for (index, record) in records.enumerated() {
                    let error = Self.enqueue(record, handle: client.handle, opaque: batch.opaque(for: index),
                                             logger: logger, isClosed: { closed.load(ordering: .acquiring) })
                    if let error {
                        tracker.fail(batch: batch.id, index: index, error: error)
                    }
                }
            }
        }
    }

    /// Like `send`, but throws the first delivery error.
    @discardableResult
    public func sendAll(_ records: [ProducerRecord]) async throws(KafkaError) -> [DeliveryReport] {
        let reports = try await send(records)
        let failures = reports.filter { $0.error != nil }
        if let first = failures.first?.error {
            throw KafkaError(first.code, "\(failures.count) of \(records.count) records not delivered; first: \(first.message)",
                             isRetriable: first.isRetriable)
        }
        return reports
    }

    /// Waits until every enqueued record has a delivery report.
    public func flush(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let client = self.client
        let ms = timeout.milliseconds
        try await client.run { () throws(KafkaError) in
            try KafkaError.check(rd_kafka_flush(client.handle, ms), "flush")
        }
    }

    /// Flushes, then releases the client. Records still undelivered after `timeout` fail.
    public func close(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let client = self.client
        let poller = self.poller
        let ms = timeout.milliseconds
        let flushResult = await client.run { rd_kafka_flush(client.handle, ms) }
        await client.run {
            poller.stop()
            client.destroy()
        }
        try KafkaError.check(flushResult, "flush on close")
    }

    private static func enqueue(_ record: ProducerRecord, handle: OpaquePointer, opaque: UnsafeMutableRawPointer?,
                                logger: Logger, isClosed: () -> Bool) -> KafkaError? {
        var waitedForSpace = false
        while true {
            let headers = record.headers.isEmpty ? nil : makeHeaders(record.headers)
            let err = withOptionalBytes(record.key) { key, keyLength in
                withOptionalBytes(record.value) { value, valueLength in
                    alm_rd_kafka_produce(handle, record.topic, record.partition ?? RD_KAFKA_PARTITION_UA,
                                         key, keyLength, value, valueLength, headers,
                                         record.timestampMs ?? 0, opaque)
                }
            }
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return nil }
            // On failure the headers are still ours.
            if let headers { rd_kafka_headers_destroy(headers) }
            guard err == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                return KafkaError(err, context: "produce to \(record.topic)")
            }
            if isClosed() { return KafkaError(.closed, "producer closed while waiting for queue space") }
            if !waitedForSpace {
                logger.debug("producer queue full, waiting for deliveries", metadata: ["kafka.topic": "\(record.topic)"])
                waitedForSpace = true
            }
            usleep(1_000)
        }
    }

    private static func makeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer {
        let native = rd_kafka_headers_new(headers.count)!
        for header in headers {
            withOptionalBytes(header.value) { bytes, length in
                _ = rd_kafka_header_add(native, header.name, -1, bytes, length)
            }
        }
        return native
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> R) -> R {
    guard let bytes else { return body(nil, 0) }
    return bytes.withUnsafeBytes { body($0.baseAddress, $0.count) }
}

private let deliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
    rk, message, _ in
    guard let message, let context = clientContext(rk) else { return }
    context.onDelivery?(message)
}

/// Matches delivery reports to the `send` call and record they answer. The per-message opaque
/// encodes (batch id, index + 1) in one word, so no allocation per record is needed.
final class DeliveryTracker: Sendable {
    struct Batch {
        let id: UInt32
        func opaque(for index: Int) -> UnsafeMutableRawPointer? {
            UnsafeMutableRawPointer(bitPattern: UInt(id) << 32 | UInt(index + 1))
        }
    }

    /// Mutated in place under the lock: a copy per delivery would make a batch cost O(n²).
    private final class Pending {
        var reports: [DeliveryReport?]
        var remaining: Int
        let continuation: CheckedContinuation<[DeliveryReport], Never>

        init(count: Int, continuation: CheckedContinuation<[DeliveryReport], Never>) {
            reports = Array(repeating: nil, count: count)
            remaining = count
            self.continuation = continuation
        }
    }

    private let state = Mutex<(nextID: UInt32, pending: [UInt32: Pending])>((1, [:]))

    func begin(records: [ProducerRecord], continuation: CheckedContinuation<[DeliveryReport], Never>) -> Batch {
        state.withLock { state in
            let id = state.nextID
            state.nextID = state.nextID == UInt32.max ? 1 : state.nextID + 1
            state.pending[id] = Pending(count: records.count, continuation: continuation)
            return Batch(id: id)
        }
    }

    func complete(_ message: UnsafePointer<rd_kafka_message_t>) {
        let bits = UInt(bitPattern: message.pointee._private)
        let batch = UInt32(truncatingIfNeeded: bits >> 32)
        let index = Int(bits & 0xFFFF_FFFF) - 1
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let err = message.pointee.err
        let report = DeliveryReport(
            topic: topic, partition: message.pointee.partition,
            offset: err == RD_KAFKA_RESP_ERR_NO_ERROR ? message.pointee.offset : nil,
            error: err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, context: "delivery to \(topic)"))
        record(batch: batch, index: index, report: report)
    }

    func fail(batch: UInt32, index: Int, error: KafkaError) {
        record(batch: batch, index: index, report: DeliveryReport(topic: "", partition: -1, offset: nil, error: error))
    }

    private func record(batch: UInt32, index: Int, report: DeliveryReport) {
        let finished: (CheckedContinuation<[DeliveryReport], Never>, [DeliveryReport])? = state.withLock { state in
            guard let pending = state.pending[batch], index >= 0, index < pending.reports.count,
                  pending.reports[index] == nil else { return nil }
            pending.reports[index] = report
            pending.remaining -= 1
            guard pending.remaining == 0 else { return nil }
            state.pending[batch] = nil
            return (pending.continuation, pending.reports.map { $0! })
        }
        if let (continuation, reports) = finished {
            continuation.resume(returning: reports)
        }
    }
}

/// A thread that calls `body` until stopped; for librdkafka calls that must be made repeatedly.
final class PollThread: Sendable {
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    init(name: String, body: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) { body() }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    func stop() {
        if running.exchange(false, ordering: .acquiringAndReleasing) { finished.wait() }
    }
}
