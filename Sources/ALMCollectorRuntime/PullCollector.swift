import ALMCollectors
import ALMCore
import ALMRuntime
import AsyncHTTPClient
import Foundation
import Kafka
import Logging
import Metrics
import Synchronization

public struct PullCollectorSettings: Sendable {
    public var source: PullSource
    public var baseURL: String
    public var kafka: KafkaConfiguration
    public var declarations: TopicDeclarations
    public var stateDirectory: URL
    public var fetch = FetchSettings()
    public var schedule = RefreshSchedule()
    public var worksTopic = "alm.works"
    /// The group that splits the registry between instances of this source's collector.
    public var groupID: String
    /// A round starts once the partition assignment has not changed for this long, so instances that
    /// start together do not both ask about the same works.
    public var settleSeconds = 3.0
    /// Make one round over the works due at its start, then stop (for cron and tests).
    public var once = false
    /// With `once`, give up if the group has not handed this instance its share (even an empty one)
    /// within this long, rather than wait for ever.
    public var joinTimeoutSeconds = 120.0
    /// How long to sleep when nothing is due.
    public var idleSeconds = 30.0
    /// At most this many pages of a paged answer per work.
    public var maxPages = 20
    /// For a source with language editions (Wikipedia): the languages asked, each its own site.
    public var languages = ["en"]
    /// Where the collector's metrics go (swift-metrics' bootstrapped factory unless a test passes one).
    public var metricsFactory: MetricsFactory = MetricsSystem.factory

    public init(source: PullSource, kafka: KafkaConfiguration, declarations: TopicDeclarations, stateDirectory: URL) {
        self.source = source
        self.baseURL = source.defaultBaseURL
        self.kafka = kafka
        self.declarations = declarations
        self.stateDirectory = stateDirectory
        self.groupID = "alm-collector-\(source.source)"
    }
}

public struct PullCollectorSummary: Sendable, Equatable {
    public var worksFetched = 0
    public var eventsProduced = 0
    /// Works whose request or response failed (each logged with its reason).
    public var failures = 0
    /// Works the source cannot be asked about (e.g. no PMID for Europe PMC).
    public var notApplicable = 0
    /// The DOIs fetched, in order (tests compare instances).
    public var fetchedWorks: [String] = []
}

/// A pull collector: reads the registry partitions this instance owns from `alm.works` (its own
/// consumer group per source, so instances split the works), asks the source about each work when it
/// falls due, and produces the events to `alm.raw.<source>`. When each work is due again is kept in a
/// local SQLite file.
public final class PullCollector: Sendable {
    public let settings: PullCollectorSettings
    private let logger: Logger
    private let ownership = Mutex(Ownership())

    private struct Ownership {
        /// Set by the first assignment, even an empty one (more instances than partitions).
        var joined = false
        var partitions: Set<Int32> = []
        var changedAt = ContinuousClock.now
        var revoked: Set<Int32> = []
        var reloading: Set<Int32> = []
    }

    public init(settings: PullCollectorSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func run(shouldStop: @escaping @Sendable () -> Bool = { false }) async throws -> PullCollectorSummary {
        let source = settings.source.source
        guard settings.declarations[settings.worksTopic] != nil else { throw CollectorRuntimeError("topics.yaml declares no \(settings.worksTopic)") }
        let router = try RawEventRouter(declarations: settings.declarations)
        let store = try ScheduleStore(directory: settings.stateDirectory, source: source)
        var due = try store.load()

        var kafka = settings.kafka
        if kafka["group.id"] == nil { kafka["group.id"] = settings.groupID }
        kafka["enable.partition.eof"] = "true"
        let consumer = try KafkaConsumer(configuration: kafka, logger: logger) { [self] event in rebalance(event) }
        try consumer.subscribe(topics: [settings.worksTopic])
        let producer = try KafkaProducer(configuration: settings.kafka, logger: logger)
        let client = HTTPClient.forCollectors(settings.fetch)
        let metrics = CollectorMetrics(source: source, factory: settings.metricsFactory)
        let fetcher = SourceFetcher(source: source, settings: settings.fetch, client: client, logger: logger, metrics: metrics)

        var registry = WorkRegistry()
        var summary = PullCollectorSummary()
        let started = ContinuousClock.now
        var lastWaitReport = started
        do {
            while !shouldStop() {
                let batch = try await consumer.poll(maxRecords: 5000, timeout: .milliseconds(200))
                let (revoked, owned, reloading, settled, joined) = ownership.withLock { state in
                    defer { state.revoked.removeAll() }
                    state.reloading.subtract(batch.endOfPartition.filter { $0.topic == settings.worksTopic }.map(\.partition))
                    let settled = state.joined && state.reloading.isEmpty
                        && ContinuousClock.now - state.changedAt >= .milliseconds(Int64(settings.settleSeconds * 1000))
                    return (state.revoked, state.partitions, state.reloading, settled, state.joined)
                }
                if !joined, settings.once, ContinuousClock.now - started >= .milliseconds(Int64(settings.joinTimeoutSeconds * 1000)) {
                    throw CollectorRuntimeError("\(source): group \(kafka["group.id"] ?? "") gave this instance no share of "
                        + "\(settings.worksTopic) within \(Int(settings.joinTimeoutSeconds)) s; is the broker reachable?")
                }
                for error in batch.errors { logger.warning("\(source): \(settings.worksTopic): \(error)") }
                if settled {
                    lastWaitReport = ContinuousClock.now
                } else if ContinuousClock.now - lastWaitReport >= .seconds(30) {
                    lastWaitReport = ContinuousClock.now
                    logger.warning(!joined
                        ? "\(source): no partition of \(settings.worksTopic) assigned yet (group \(kafka["group.id"] ?? ""))"
                        : reloading.isEmpty ? "\(source): the assignment of \(settings.worksTopic) keeps changing"
                        : "\(source): still reading partitions \(reloading.sorted()) of \(settings.worksTopic) to their end")
                }
                if !revoked.isEmpty { registry.drop(partitions: revoked) }
                for record in batch.records where owned.contains(record.partition) {
                    if !registry.apply(value: record.value, partition: record.partition) {
                        logger.warning("\(settings.worksTopic)[\(record.partition)]@\(record.offset) is not a work record; ignored")
                    }
                }
                guard settled else { continue }

                let now = Date().timeIntervalSince1970
                let dueWorks = registry.works.values.filter { (due[$0.record.doi] ?? 0) <= now }
                    .sorted { (due[$0.record.doi] ?? 0, $0.record.doi) < (due[$1.record.doi] ?? 0, $1.record.doi) }
                for (record, partition) in dueWorks {
                    if shouldStop() { break }
                    guard ownership.withLock({ $0.partitions.contains(partition) }) else { continue }
                    let next = try await collect(record, fetcher: fetcher, router: router, producer: producer, metrics: metrics,
                                                 summary: &summary)
                    due[record.doi] = next.due
                    try store.record(doi: record.doi, nextDue: next.due, succeededAt: next.succeeded ? Date().timeIntervalSince1970 : nil)
                    if await fetcher.isPaused {
                        logger.warning("\(source): paused by its circuit breaker; the rest of the round waits")
                        break
                    }
                }
                if settings.once { break }
                if dueWorks.isEmpty { try? await Task.sleep(for: .milliseconds(Int64(settings.idleSeconds * 1000))) }
            }
        } catch {
            await consumer.close()
            try? await producer.close(timeout: .seconds(5))
            try? await client.shutdown()
            throw error
        }
        await consumer.close()
        try await producer.close()
        try await client.shutdown()
        return summary
    }

    /// Asks the source about one work and produces what it says. Returns when the work is due next.
    private func collect(_ work: WorkRecord, fetcher: SourceFetcher, router: RawEventRouter, producer: KafkaProducer,
                         metrics: CollectorMetrics, summary: inout PullCollectorSummary) async throws -> (due: Double, succeeded: Bool) {
        let now = Date().timeIntervalSince1970
        let identifiers = WorkIdentifiers(doi: work.doi, pmid: work.pmid, pmcid: work.pmcid)
        let regular = settings.schedule.nextDue(doi: work.doi, published: work.published, fetchedAt: now)
        guard let path = settings.source.request(identifiers) else {
            summary.notApplicable += 1
            return (regular, false)
        }
        var routes: [RawEventRouter.Route] = []
        var failed = false, retrySoon = false
        for site in settings.source.sites(baseURL: settings.baseURL, languages: settings.languages) {
            let url = site.baseURL + path
            switch await fetchPages(work, identifiers, first: url, site: site, fetcher: fetcher, metrics: metrics) {
            case .success(let events):
                routes += events.map { router.route($0.encodedJSON(), origin: url) }
            case .failure(let failure):
                summary.failures += 1
                failed = true
                retrySoon = retrySoon || !failure.isMalformed  // garbage now is garbage in an hour
            }
        }
        // What the sites that answered said is sent even when another failed (ids make a resend harmless).
        if !failed || !routes.isEmpty {
            summary.worksFetched += 1
            summary.fetchedWorks.append(work.doi)
            _ = try await producer.sendAll(routes.map(\.record))
            summary.eventsProduced += routes.count
            metrics.events.increment(by: routes.count)
        }
        if failed { return (retrySoon ? min(regular, now + 3600) : regular, false) }
        metrics.succeeded()
        return (regular, true)
    }

    private struct SiteFailure: Error {
        var isMalformed: Bool
    }

    /// One site's answer about a work, following its pages. Failures are logged here.
    private func fetchPages(_ work: WorkRecord, _ identifiers: WorkIdentifiers, first: String,
                            site: (baseURL: String, parser: any ResponseParser), fetcher: SourceFetcher,
                            metrics: CollectorMetrics) async -> Result<[RawEvent], SiteFailure> {
        var url = first
        var events: [RawEvent] = []
        var seenIDs: Set<String> = []
        for page in 1...settings.maxPages {
            let body: [UInt8]
            do {
                body = try await fetcher.fetch(url)
            } catch {
                logger.warning("\(settings.source.source): \(work.doi): \(error)",
                               metadata: ["collector.source": "\(settings.source.source)", "collector.error": "\(error.errorClass)"])
                return .failure(SiteFailure(isMalformed: false))
            }
            do {
                // Pages of a search overlap: an occurrence seen on an earlier page is not sent twice.
                for event in try site.parser.events(from: body, context: ResponseContext(work: identifiers, observedAt: currentTimestamp()))
                where event.id.map({ seenIDs.insert($0).inserted }) ?? true {
                    events.append(event)
                }
            } catch {
                metrics.error(error.kind.rawValue)
                logger.warning("\(settings.source.source): \(work.doi): \(error)",
                               metadata: ["collector.source": "\(settings.source.source)", "collector.error": "\(error.kind.rawValue)"])
                await fetcher.noteUnreadableAnswer(error.kind.rawValue)
                return .failure(SiteFailure(isMalformed: true))
            }
            guard let next = settings.source.nextPage?(identifiers, body) else { break }
            if page == settings.maxPages {
                logger.warning("\(settings.source.source): \(work.doi): stopped after \(page) pages")
                break
            }
            url = site.baseURL + next
        }
        return .success(events)
    }

    private func rebalance(_ event: RebalanceEvent) -> [TopicPartitionOffset] {
        switch event {
        case .assigned(let partitions):
            let numbers = Set(partitions.map(\.partition))
            logger.info("assigned partitions \(numbers.sorted()) of \(settings.worksTopic)")
            ownership.withLock { state in
                state.joined = true
                state.partitions.formUnion(numbers)
                state.reloading.formUnion(numbers)
                state.changedAt = ContinuousClock.now
            }
            // The registry is compacted: read each owned partition whole, whoever read it before.
            return partitions.map { TopicPartitionOffset($0, offset: TopicPartitionOffset.beginning) }
        case .revoked(let partitions):
            let numbers = Set(partitions.map(\.partition))
            logger.info("revoked partitions \(numbers.sorted()) of \(settings.worksTopic)")
            ownership.withLock { state in
                state.partitions.subtract(numbers)
                state.reloading.subtract(numbers)
                state.revoked.formUnion(numbers)
                state.changedAt = ContinuousClock.now
            }
            return []
        }
    }
}

public struct CollectorRuntimeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
