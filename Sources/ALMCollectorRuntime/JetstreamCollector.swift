import ALMCollectors
import ALMCore
import ALMRuntime
import Foundation
import Kafka
import Logging
import Metrics
import Synchronization
import WSClient

public struct JetstreamCollectorSettings: Sendable {
    /// Bluesky's Jetstream, posts only. `cursor=` is added when resuming.
    public var url = "wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post"
    public var kafka: KafkaConfiguration
    public var declarations: TopicDeclarations
    public var stateDirectory: URL
    public var batchEvents = 500
    public var batchSeconds = 1.0
    /// Resume this far before the saved cursor (Jetstream's advice; re-read posts keep their event ids).
    public var rewindMicroseconds: Int64 = 5_000_000
    public var reconnect = RetryPolicy(maxAttempts: Int.max, baseDelaySeconds: 1, maxDelaySeconds: 60)
    /// Stop when the server closes the connection instead of reconnecting (tests).
    public var stopAtEnd = false
    public var metricsFactory: MetricsFactory = MetricsSystem.factory
    /// Keep only events about works in the registry (`alm.works`); nil keeps every DOI. The memory of
    /// which post linked which DOIs keeps them all, so a work registered later still gets retractions.
    public var registry: RegistryIndex?

    public init(kafka: KafkaConfiguration, declarations: TopicDeclarations, stateDirectory: URL) {
        self.kafka = kafka
        self.declarations = declarations
        self.stateDirectory = stateDirectory
    }
}

/// Follows Bluesky's Jetstream over a WebSocket: posts linking a DOI become `discusses` events, and a
/// deleted post retracts them, which needs the memory of which post linked which DOIs
/// (`JetstreamMemory`). The memory, with the stream cursor (`time_us`) inside it, is saved after the
/// broker acknowledges each batch, and a restart resumes from it.
public final class JetstreamCollector: Sendable {
    public let settings: JetstreamCollectorSettings
    private let logger: Logger
    private static let memoryKey = "jetstream-memory"

    public init(settings: JetstreamCollectorSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func run(shouldStop: @escaping @Sendable () -> Bool = { false }) async throws -> StreamCollectorSummary {
        let router = try RawEventRouter(declarations: settings.declarations)
        let store = try CursorStore(directory: settings.stateDirectory, source: "bluesky")
        let producer = try KafkaProducer(configuration: settings.kafka, logger: logger)
        let metrics = CollectorMetrics(source: "bluesky", factory: settings.metricsFactory)
        let summary = SharedSummary()
        var failures = 0
        try await closing(producer) {
            while !shouldStop() {
                let before = summary.current.frames
                var url = settings.url
                if let cursor = try loadMemory(store).cursor { url += (url.contains("?") ? "&" : "?") + "cursor=\(max(0, cursor - settings.rewindMicroseconds))" }
                do {
                    try await WebSocketClient.connect(url: url, logger: logger) { [self] inbound, _, _ in
                        var memory = try loadMemory(store)
                        summary.update { $0.connections += 1 }
                        metrics.requests.increment()
                        try await OrderedDelivery.run(producer: producer) { delivery in
                            var pending: [RawEvent] = []
                            var lastFlush = ContinuousClock.now
                            func flush() async throws {
                                let records = pending.map { router.route($0.encodedJSON(), origin: "jetstream").record }
                                let saved = String(decoding: try JSONEncoder().encode(memory), as: UTF8.self)
                                try await delivery.enqueue(records) {
                                    if !records.isEmpty {
                                        metrics.events.increment(by: records.count)
                                        metrics.succeeded()
                                        summary.update { $0.events += records.count }
                                    }
                                    try store.save(saved, of: Self.memoryKey)
                                }
                                pending.removeAll(keepingCapacity: true)
                                lastFlush = .now
                            }
                            for try await message in inbound.messages(maxSize: 1 << 20) {
                                guard case .text(let text) = message else { continue }
                                summary.update { $0.frames += 1 }
                                do {
                                    let events = try memory.read(Array(text.utf8), observedAt: currentTimestamp(),
                                                                 resolve: settings.registry?.resolver).events
                                    pending += settings.registry.map { registry in events.filter { registry.contains(doi: $0.work) } } ?? events
                                } catch let error as CollectorError {
                                    summary.update { $0.malformedFrames += 1 }
                                    metrics.error(error.kind.rawValue)
                                    logger.warning("bluesky: unreadable Jetstream message: \(error)")
                                }
                                if pending.count >= settings.batchEvents
                                    || ContinuousClock.now - lastFlush >= .milliseconds(Int64(settings.batchSeconds * 1000)) {
                                    try await flush()
                                }
                                if shouldStop() { break }
                            }
                            try await flush()
                        }
                    }
                    if settings.stopAtEnd || shouldStop() { break }
                } catch let error as KafkaError {
                    throw error
                } catch {
                    metrics.error("connection")
                    logger.warning("bluesky: Jetstream connection failed: \(error)")
                    if settings.stopAtEnd { throw error }
                }
                failures = summary.current.frames > before ? 1 : failures + 1
                if case .retry(let seconds) = settings.reconnect.decide(after: failures, .connectionFailed, unit: .random(in: 0..<1)) {
                    try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                }
            }
        }
        return summary.current
    }

    private func loadMemory(_ store: CursorStore) throws -> JetstreamMemory {
        guard let saved = try store.position(of: Self.memoryKey) else { return JetstreamMemory() }
        return try JSONDecoder().decode(JetstreamMemory.self, from: Data(saved.utf8))
    }
}
