import ALMCollectors
import ALMCore
import ALMRuntime
import AsyncHTTPClient
import Foundation
import Kafka
import Logging
import Metrics
import NIOCore
import Synchronization

public struct StreamCollectorSettings: Sendable {
    /// The source whose raw topic receives the events.
    public var source: String
    /// The Server-Sent-Events stream (Wikimedia EventStreams).
    public var url: String
    /// Reads one frame's `data` into events.
    public var parser: any ResponseParser
    public var kafka: KafkaConfiguration
    public var declarations: TopicDeclarations
    public var stateDirectory: URL
    public var userAgent = FetchSettings().userAgent
    /// Events are produced, and the cursor saved, at least this often and every `batchEvents` events.
    public var batchEvents = 500
    public var batchSeconds = 1.0
    /// Waits between reconnections: exponential with full jitter, capped.
    public var reconnect = RetryPolicy(maxAttempts: Int.max, baseDelaySeconds: 1, maxDelaySeconds: 60)
    /// Stop when the server ends the stream instead of reconnecting (tests, replays of a finite stream).
    public var stopAtEnd = false
    public var metricsFactory: MetricsFactory = MetricsSystem.factory
    /// Keep only events about works in the registry (`alm.works`); nil keeps every DOI.
    public var registry: RegistryIndex?

    public init(source: String, url: String, parser: any ResponseParser, kafka: KafkaConfiguration,
                declarations: TopicDeclarations, stateDirectory: URL) {
        self.source = source
        self.url = url
        self.parser = parser
        self.kafka = kafka
        self.declarations = declarations
        self.stateDirectory = stateDirectory
    }

    /// Wikimedia's stream of added and removed external links.
    public static func wikipediaLinks(kafka: KafkaConfiguration, declarations: TopicDeclarations, stateDirectory: URL) -> Self {
        StreamCollectorSettings(source: "wikipedia", url: "https://stream.wikimedia.org/v2/stream/page-links-change",
                                parser: WikipediaLinksChangeParser(), kafka: kafka, declarations: declarations,
                                stateDirectory: stateDirectory)
    }
}

public struct StreamCollectorSummary: Sendable, Equatable {
    public var frames = 0
    public var events = 0
    /// Frames whose data the parser refused (logged; the stream goes on).
    public var malformedFrames = 0
    public var connections = 0
}

/// A summary that a stream's reader and its delivery (`OrderedDelivery`) both update.
final class SharedSummary: Sendable {
    private let summary = Mutex(StreamCollectorSummary())

    var current: StreamCollectorSummary { summary.withLock { $0 } }

    func update(_ change: (inout StreamCollectorSummary) -> Void) {
        summary.withLock { change(&$0) }
    }
}

/// Follows a Server-Sent-Events stream: each frame's data becomes events (only links to DOIs make
/// any), produced to `alm.raw.<source>`. After the broker acknowledges a batch, the id of its last
/// frame is saved; a restart or a dropped connection resumes from it with `Last-Event-ID`. A crash
/// between producing and saving re-sends that batch: its events have the same ids, so the processor
/// counts them once.
public final class StreamCollector: Sendable {
    public let settings: StreamCollectorSettings
    private let logger: Logger

    public init(settings: StreamCollectorSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Where a collector with these settings would resume: the id of the last frame whose events the
    /// broker acknowledged, or nil when it would start from now.
    public static func resumePosition(of settings: StreamCollectorSettings) throws -> String? {
        try CursorStore(directory: settings.stateDirectory, source: settings.source).position(of: settings.url)
    }

    public func run(shouldStop: @escaping @Sendable () -> Bool = { false }) async throws -> StreamCollectorSummary {
        let router = try RawEventRouter(declarations: settings.declarations)
        let cursors = try CursorStore(directory: settings.stateDirectory, source: settings.source)
        let producer = try KafkaProducer(configuration: settings.kafka, logger: logger)
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: .seconds(300)))
        configuration.decompression = .enabled(limit: .ratio(50))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let metrics = CollectorMetrics(source: settings.source, factory: settings.metricsFactory)
        let summary = SharedSummary()
        var failures = 0
        try await closing(producer, client) {
            while !shouldStop() {
                let receivedBefore = summary.current.frames
                do {
                    try await follow(client: client, producer: producer, router: router, cursors: cursors, metrics: metrics,
                                     summary: summary, shouldStop: shouldStop)
                    if settings.stopAtEnd || shouldStop() { break }
                    logger.info("\(settings.source): the stream ended; reconnecting")
                } catch let error as KafkaError {
                    throw error
                } catch {
                    metrics.error("connection")
                    logger.warning("\(settings.source): stream interrupted: \(error)", metadata: ["collector.source": "\(settings.source)"])
                }
                failures = summary.current.frames > receivedBefore ? 1 : failures + 1
                if case .retry(let seconds) = settings.reconnect.decide(after: failures, .connectionFailed, unit: .random(in: 0..<1)) {
                    try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                }
            }
        }
        return summary.current
    }

    private func follow(client: HTTPClient, producer: KafkaProducer, router: RawEventRouter, cursors: CursorStore,
                        metrics: CollectorMetrics, summary: SharedSummary, shouldStop: @Sendable () -> Bool) async throws {
        let resumeFrom = try cursors.position(of: settings.url)
        var request = HTTPClientRequest(url: settings.url)
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.headers.add(name: "User-Agent", value: settings.userAgent)
        if let resumeFrom { request.headers.add(name: "Last-Event-ID", value: resumeFrom) }
        let response = try await client.execute(request, timeout: .hours(24 * 365))
        guard response.status == .ok else {
            throw CollectorRuntimeError("\(settings.url) answered HTTP \(response.status.code)")
        }
        summary.update { $0.connections += 1 }
        metrics.requests.increment()
        let start = resumeFrom.map { "from \($0)" } ?? "from now"
        logger.info("\(settings.source): following \(settings.url) \(start)")

        try await OrderedDelivery.run(producer: producer) { delivery in
            var parser = ServerSentEventParser(lastEventID: resumeFrom)
            var pending: [RawEvent] = []
            var pendingCursor: String?
            var lastFlush = ContinuousClock.now
            func read(_ frame: ServerSentEvent) {
                summary.update { $0.frames += 1 }
                do {
                    let context = ResponseContext(work: nil, observedAt: currentTimestamp(), resolve: settings.registry?.resolver)
                    let events = try settings.parser.events(from: Array(frame.data.utf8), context: context)
                    pending += settings.registry.map { registry in events.filter { registry.contains(doi: $0.work) } } ?? events
                } catch {
                    summary.update { $0.malformedFrames += 1 }
                    metrics.error(error.kind.rawValue)
                    logger.warning("\(settings.source): frame \(frame.id ?? "without id"): \(error)")
                }
                if let id = frame.id { pendingCursor = id }
            }
            func flush() async throws {
                let records = pending.map { router.route($0.encodedJSON(), origin: settings.url).record }
                let (url, cursor) = (settings.url, pendingCursor)
                try await delivery.enqueue(records) {
                    if !records.isEmpty {
                        summary.update { $0.events += records.count }
                        metrics.events.increment(by: records.count)
                        metrics.succeeded()
                    }
                    if let cursor { try cursors.save(cursor, of: url) }
                }
                pending.removeAll(keepingCapacity: true)
                pendingCursor = nil
                lastFlush = .now
            }
            for try await chunk in response.body {
                parser.feed(chunk.readableBytesView).forEach(read)
                if pending.count >= settings.batchEvents || ContinuousClock.now - lastFlush >= .milliseconds(Int64(settings.batchSeconds * 1000)) {
                    try await flush()
                }
                if shouldStop() { break }
            }
            if let last = parser.finish() { read(last) }
            try await flush()
        }
    }
}

/// Now, to the millisecond, as an event timestamp (`observed_at`).
public func currentTimestamp() -> Timestamp {
    Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000) * 1000)!
}
