import ALMCore
import ALMRuntime
import Foundation
import Kafka
import Logging
import Metrics
import Synchronization

/// A swift-metrics backend that keeps the collector metrics of this process (CollectorMetrics' labels)
/// so they can be published as `CollectorStatus`. Used beside the process's own backend through a
/// multiplexer, so Prometheus and the status topic see the same numbers.
public final class CollectorStatusBoard: MetricsFactory, Sendable {
    struct Key: Hashable {
        let label: String
        let source: String
        let errorClass: String?
    }

    private let values = Mutex<[Key: Double]>([:])

    public init() {}

    /// The status of `source` as of now, or nil when no metric of it was recorded yet.
    public func status(source: String, instance: String, startedAt: Date, now: Date = Date()) -> CollectorStatus {
        let snapshot = values.withLock { $0 }
        func value(_ label: String) -> Double { snapshot[Key(label: label, source: source, errorClass: nil)] ?? 0 }
        var errors: [String: Int64] = [:]
        for (key, count) in snapshot where key.label == "alm_collector_errors_total" && key.source == source && count > 0 {
            errors[key.errorClass ?? "unknown"] = Int64(count)
        }
        let lastSuccess = value("alm_collector_last_success_timestamp_seconds")
        return CollectorStatus(
            source: source, instance: instance, startedAt: Self.rfc3339(startedAt), reportedAt: Self.rfc3339(now),
            requests: Int64(value("alm_collector_requests_total")), events: Int64(value("alm_collector_events_total")),
            errors: errors, breaker: value("alm_collector_paused") >= 1 ? "open" : "closed",
            lastSuccessAt: lastSuccess > 0 ? Self.rfc3339(Date(timeIntervalSince1970: lastSuccess)) : nil)
    }

    static func rfc3339(_ date: Date) -> String {
        Timestamp(microsecondsSinceEpoch: Int64(date.timeIntervalSince1970 * 1000) * 1000)?.text ?? ""
    }

    fileprivate func add(_ key: Key, _ amount: Double) { values.withLock { $0[key, default: 0] += amount } }
    fileprivate func set(_ key: Key, _ value: Double) { values.withLock { $0[key] = value } }

    private func key(_ label: String, _ dimensions: [(String, String)]) -> Key {
        Key(label: label, source: dimensions.first { $0.0 == "source" }?.1 ?? "",
            errorClass: dimensions.first { $0.0 == "class" }?.1)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        Handler(board: self, key: key(label, dimensions))
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        Handler(board: self, key: key(label, dimensions))
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler {
        Handler(board: self, key: key(label, dimensions))
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        Handler(board: self, key: key(label, dimensions))
    }

    public func destroyCounter(_ handler: CounterHandler) {}
    public func destroyRecorder(_ handler: RecorderHandler) {}
    public func destroyTimer(_ handler: TimerHandler) {}

    /// Counters add; gauges and recorders keep the last value; timers are not kept.
    private final class Handler: CounterHandler, RecorderHandler, MeterHandler, TimerHandler, Sendable {
        let board: CollectorStatusBoard
        let key: Key

        init(board: CollectorStatusBoard, key: Key) {
            self.board = board
            self.key = key
        }

        func increment(by amount: Int64) { board.add(key, Double(amount)) }
        func reset() { board.set(key, 0) }
        func record(_ value: Int64) { board.set(key, Double(value)) }
        func record(_ value: Double) { board.set(key, value) }
        func set(_ value: Int64) { board.set(key, Double(value)) }
        func set(_ value: Double) { board.set(key, value) }
        func increment(by amount: Double) { board.add(key, amount) }
        func decrement(by amount: Double) { board.add(key, -amount) }
        func recordNanoseconds(_ duration: Int64) {}
    }
}

/// Sends the board's status of one source to `alm.status` (keyed `source/instance`) every `interval`,
/// and once more when stopped, until its task is cancelled.
public struct CollectorStatusPublisher: Sendable {
    public static let topic = "alm.status"
    public var interval: Duration = .seconds(30)
    let source: String
    let instance: String
    let board: CollectorStatusBoard
    let producer: KafkaProducer
    let logger: Logger
    let startedAt = Date()

    public init(source: String, board: CollectorStatusBoard, producer: KafkaProducer, logger: Logger,
                instance: String = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)") {
        self.source = source
        self.board = board
        self.producer = producer
        self.logger = logger
        self.instance = instance
    }

    public func run() async {
        while !Task.isCancelled {
            await publish()
            try? await Task.sleep(for: interval)
        }
        await publish()
    }

    public func publish() async {
        let status = board.status(source: source, instance: instance, startedAt: startedAt)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let value = Array(try encoder.encode(status))
            _ = try await producer.sendAll([ProducerRecord(topic: Self.topic, key: Array("\(source)/\(instance)".utf8), value: value)])
        } catch {
            // Health reporting never stops collecting.
            logger.warning("could not publish the collector's status to \(Self.topic): \(error)")
        }
    }
}
