import ALMCore
import ALMProcessor
import ALMRuntime
import ALMState
import Foundation
import Kafka
import Logging
import Synchronization

/// Pipeline health for `/api/v1/sources` and the dashboard, read from Kafka itself: the raw topics'
/// record timestamps (events per minute, last event), the dead-letter topic (rejections per source),
/// and the processor's lag — the end of each raw partition minus the offset its state store reflects.
/// Only timestamps, headers and offsets are looked at; payloads are not decoded.
public final class PipelineMonitor: Sendable {
    public struct SourceHealth: Sendable, Equatable {
        public var source: String
        public var eventsLast24h = 0
        public var eventsLastMinute = 0
        /// Kafka timestamp of the newest record.
        public var lastEventAt: Date?
        public var recordsSeen = 0
        /// Records of this source the processor or the collectors sent to the dead-letter topic.
        public var deadLetters = 0
        public var deadLettersLast24h = 0
        /// Raw records not yet reflected in the processor's state; nil when no state is readable.
        public var processorLag: Int64?
        /// The latest `alm.status` report of each collector instance of this source.
        public var collectors: [CollectorStatus] = []

        /// `open` when any instance reporting within the last `freshSeconds` holds its breaker open.
        public func breaker(now: Date, freshSeconds: TimeInterval = PipelineMonitor.statusFreshSeconds) -> String? {
            let fresh = collectors.filter { status in
                (try? Timestamp(parsing: status.reportedAt)).map { now.timeIntervalSince1970 - Double($0.microsecondsSinceEpoch) / 1e6 <= freshSeconds } ?? false
            }
            if fresh.isEmpty { return nil }
            return fresh.contains { $0.breaker == "open" } ? "open" : "closed"
        }
    }

    /// Collectors report every 30 s; a report older than three intervals is stale.
    public static let statusFreshSeconds: TimeInterval = 90

    struct Tally {
        var recordsSeen = 0
        var lastTimestampMs: Int64 = 0
        var minutes: [Int64: Int] = [:]
        var deadLetters = 0
        var deadLetterMinutes: [Int64: Int] = [:]
    }

    struct State {
        var tallies: [String: Tally] = [:]
        /// topic → partition → next offset after the last record read.
        var ends: [String: [Int32: Int64]] = [:]
        var reachedEnd: Set<TopicPartition> = []
        var lag: [String: Int64]?
        /// `source/instance` → its latest report.
        var collectors: [String: CollectorStatus] = [:]
    }

    public static let unknownSource = "unknown"
    private let rawTopics: [TopicDeclaration]
    private let deadLetterTopic: TopicDeclaration?
    private let statusTopic: TopicDeclaration?
    private let stateDirectory: URL?
    private let kafka: KafkaConfiguration
    private let logger: Logger
    private let state = Mutex(State())
    private let clock: @Sendable () -> Date

    public init(declarations: TopicDeclarations, deadLetterTopic: String = "alm.dlq", stateDirectory: URL?,
                kafka: KafkaConfiguration, logger: Logger, clock: @escaping @Sendable () -> Date = Date.init) {
        self.rawTopics = declarations.rawTopics
        self.deadLetterTopic = declarations[deadLetterTopic]
        self.statusTopic = declarations["alm.status"]
        self.stateDirectory = stateDirectory
        self.kafka = kafka
        self.logger = logger
        self.clock = clock
    }

    /// Sources in name order, one per raw topic (and `unknown` for dead letters of no known source).
    public func sources() -> [SourceHealth] {
        let nowMinute = Int64(clock().timeIntervalSince1970) / 60
        return state.withLock { state in
            var names = rawTopics.map { Self.source(ofTopic: $0.name) }
            if state.tallies[Self.unknownSource] != nil { names.append(Self.unknownSource) }
            return names.sorted().map { name in
                let tally = state.tallies[name] ?? Tally()
                var health = SourceHealth(source: name)
                health.recordsSeen = tally.recordsSeen
                health.eventsLast24h = Self.sum(tally.minutes, since: nowMinute - 24 * 60 + 1)
                health.eventsLastMinute = tally.minutes[nowMinute] ?? 0
                health.lastEventAt = tally.lastTimestampMs > 0 ? Date(timeIntervalSince1970: Double(tally.lastTimestampMs) / 1000) : nil
                health.deadLetters = tally.deadLetters
                health.deadLettersLast24h = Self.sum(tally.deadLetterMinutes, since: nowMinute - 24 * 60 + 1)
                health.processorLag = state.lag?[name]
                health.collectors = state.collectors.values.filter { $0.source == name }.sorted { $0.instance < $1.instance }
                return health
            }
        }
    }

    /// Records per minute of one source over the last `minutes` minutes, oldest first.
    public func eventsPerMinute(source: String, minutes: Int) -> [Int] {
        let nowMinute = Int64(clock().timeIntervalSince1970) / 60
        let tally = state.withLock { $0.tallies[source] }
        return (0..<Int64(minutes)).reversed().map { tally?.minutes[nowMinute - $0] ?? 0 }
    }

    /// True once every followed partition was read to the end seen at start.
    public var caughtUp: Bool {
        let followed = followedTopics.reduce(0) { $0 + Int($1.partitions) }
        return state.withLock { $0.reachedEnd.count } >= followed
    }

    /// Follows the topics until cancelled; refreshes the lag every `lagInterval`.
    public func run(lagInterval: Duration = .seconds(2)) async throws {
        var configuration = kafka
        configuration["group.id"] = "alm-serve-monitor-\(UUID().uuidString.lowercased())"
        configuration["enable.partition.eof"] = "true"
        configuration["enable.auto.commit"] = "false"
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        do {
            try consumer.assign(followedTopics.flatMap { topic in
                (0..<topic.partitions).map { TopicPartitionOffset(topic.name, $0, offset: TopicPartitionOffset.beginning) }
            })
            var lastLagRefresh = ContinuousClock.now - lagInterval
            while !Task.isCancelled {
                let batch = try await consumer.poll(maxRecords: 5000, timeout: .milliseconds(200))
                absorb(batch)
                if ContinuousClock.now - lastLagRefresh >= lagInterval {
                    refreshLag()
                    lastLagRefresh = .now
                }
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
    }

    private var followedTopics: [TopicDeclaration] { rawTopics + [deadLetterTopic, statusTopic].compactMap { $0 } }

    func absorb(_ batch: ConsumerBatch) {
        for error in batch.errors { logger.warning("pipeline monitor: \(error)") }
        let horizonMinute = Int64(clock().timeIntervalSince1970) / 60 - 24 * 60
        let deadLetterName = deadLetterTopic?.name
        let statusName = statusTopic?.name
        state.withLock { state in
            for record in batch.records {
                state.ends[record.topic, default: [:]][record.partition] = record.offset + 1
                let timestamp = record.timestampMs ?? 0
                let minute = timestamp / 60_000
                if record.topic == statusName {
                    guard let key = record.keyString else { continue }
                    state.collectors[key] = record.value.isEmpty ? nil : try? JSONDecoder().decode(CollectorStatus.self, from: Data(record.value))
                } else if record.topic == deadLetterName {
                    let source = Self.deadLetterSource(record)
                    state.tallies[source, default: Tally()].deadLetters += 1
                    if minute > horizonMinute { state.tallies[source, default: Tally()].deadLetterMinutes[minute, default: 0] += 1 }
                } else {
                    let source = Self.source(ofTopic: record.topic)
                    var tally = state.tallies[source] ?? Tally()
                    tally.recordsSeen += 1
                    tally.lastTimestampMs = max(tally.lastTimestampMs, timestamp)
                    if minute > horizonMinute { tally.minutes[minute, default: 0] += 1 }
                    state.tallies[source] = tally
                }
            }
            for end in batch.endOfPartition {
                state.reachedEnd.insert(end.topicPartition)
                state.ends[end.topic, default: [:]][end.partition] = max(state.ends[end.topic]?[end.partition] ?? 0, end.offset)
            }
            // Minutes older than a day are dropped, so memory stays at 1 440 buckets per source.
            for name in state.tallies.keys {
                state.tallies[name]!.minutes = state.tallies[name]!.minutes.filter { $0.key > horizonMinute }
                state.tallies[name]!.deadLetterMinutes = state.tallies[name]!.deadLetterMinutes.filter { $0.key > horizonMinute }
            }
        }
    }

    /// The processor's lag per source, from the offsets its state stores hold (read-only, while it runs).
    func refreshLag() {
        guard let stateDirectory else { return }
        var stored: [String: [Int32: Int64]] = [:]
        do {
            for partition in try PartitionStore.partitions(in: stateDirectory) {
                let store = try PartitionStore(directory: stateDirectory, partition: partition, readOnly: true)
                defer { store.close() }
                for (topic, offset) in try store.offsets() { stored[topic, default: [:]][partition] = offset }
            }
        } catch {
            logger.debug("pipeline monitor: cannot read the processor's offsets: \(error)")
            return
        }
        state.withLock { state in
            var lag: [String: Int64] = [:]
            for topic in rawTopics {
                var total: Int64 = 0
                for partition in 0..<topic.partitions {
                    let end = state.ends[topic.name]?[partition] ?? 0
                    total += max(0, end - (stored[topic.name]?[partition] ?? 0))
                }
                lag[Self.source(ofTopic: topic.name)] = total
            }
            state.lag = lag
        }
    }

    static func source(ofTopic topic: String) -> String {
        topic.hasPrefix(TopicDeclarations.rawTopicPrefix) ? String(topic.dropFirst(TopicDeclarations.rawTopicPrefix.count)) : topic
    }

    /// The processor names the raw topic a rejected record came from; a collector's rejection names
    /// its origin (`alm.raw.<source>[p]@o`, or a file), from which the source follows when it can.
    static func deadLetterSource(_ record: ConsumerRecord) -> String {
        if let topic = record.header(DeadLetterSourceHeader.topic)?.stringValue, topic.hasPrefix(TopicDeclarations.rawTopicPrefix) {
            return source(ofTopic: topic)
        }
        if let origin = record.header(DeadLetterHeader.origin)?.stringValue, origin.hasPrefix(TopicDeclarations.rawTopicPrefix),
           let bracket = origin.firstIndex(of: "[") {
            return source(ofTopic: String(origin[..<bracket]))
        }
        return unknownSource
    }

    private static func sum(_ minutes: [Int64: Int], since first: Int64) -> Int {
        minutes.reduce(0) { $0 + ($1.key >= first ? $1.value : 0) }
    }
}
