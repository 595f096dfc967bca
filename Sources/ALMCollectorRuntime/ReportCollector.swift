import ALMCollectors
import ALMCore
import ALMRuntime
import AsyncHTTPClient
import Foundation
import GRDB
import Kafka
import Logging
import Metrics

public struct ReportCollectorSettings: Sendable {
    public var source: ReportSource
    public var baseURL: String
    /// Journals (PMC) or SUSHI customer ids.
    public var targets: [String]
    public var firstMonth: ReportMonth
    /// The last month to collect; default: the last complete month (UTC).
    public var lastMonth: ReportMonth?
    /// Months before the last one fetched again on every run: COUNTER reports are restated, and the
    /// newest observation of a month's count wins.
    public var restateMonths = 2
    /// Appended to each request, not logged (credentials from the environment).
    public var secretQuery: String?
    public var kafka: KafkaConfiguration
    public var declarations: TopicDeclarations
    public var stateDirectory: URL
    public var fetch = FetchSettings()
    public var metricsFactory: MetricsFactory = MetricsSystem.factory

    public init(source: ReportSource, targets: [String], firstMonth: ReportMonth, kafka: KafkaConfiguration,
                declarations: TopicDeclarations, stateDirectory: URL) {
        self.source = source
        self.baseURL = source.defaultBaseURL
        self.targets = targets
        self.firstMonth = firstMonth
        self.kafka = kafka
        self.declarations = declarations
        self.stateDirectory = stateDirectory
    }
}

public struct ReportCollectorSummary: Sendable, Equatable {
    public var reportsFetched = 0
    public var events = 0
    public var failures = 0
    /// Target and month of each report fetched, in order.
    public var fetched: [String] = []
}

/// Collects monthly reports that cover many works (PMC usage, COUNTER SUSHI): each target's months from
/// `firstMonth` to the last complete one that have not been collected yet, plus the last
/// `restateMonths` again. Which reports were collected is kept in a small SQLite file. One pass per
/// run: schedule it (cron, a timer) daily or monthly.
public final class ReportCollector: Sendable {
    public let settings: ReportCollectorSettings
    private let logger: Logger

    public init(settings: ReportCollectorSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws -> ReportCollectorSummary {
        let source = settings.source.source
        let router = try RawEventRouter(declarations: settings.declarations)
        let database = try openCollectorDatabase(
            directory: settings.stateDirectory, file: "reports-\(source).sqlite",
            schema: "CREATE TABLE IF NOT EXISTS collected (target TEXT, month TEXT, at REAL NOT NULL, PRIMARY KEY (target, month)) WITHOUT ROWID")
        let last = settings.lastMonth ?? Self.lastCompleteMonth()
        let refetchFrom = (0..<settings.restateMonths).reduce(last) { month, _ in month.previous }.next
        let producer = try KafkaProducer(configuration: settings.kafka, logger: logger)
        let client = HTTPClient.forCollectors(settings.fetch)
        let metrics = CollectorMetrics(source: source, factory: settings.metricsFactory)
        let fetcher = SourceFetcher(source: source, settings: settings.fetch, client: client, logger: logger, metrics: metrics)
        var summary = ReportCollectorSummary()
        try await closing(producer, client) {
            for target in settings.targets {
                let done = try await database.read { db in
                    Set(try String.fetchAll(db, sql: "SELECT month FROM collected WHERE target = ?", arguments: [target]))
                }
                for month in ReportMonth.range(settings.firstMonth, through: last) where !done.contains(month.description) || month >= refetchFrom {
                    let url = settings.baseURL + settings.source.request(target, month.year, month.month)
                    let body: [UInt8]
                    do throws(FetchError) {
                        body = try await fetcher.fetch(url, secretQuery: settings.secretQuery)
                    } catch {
                        summary.failures += 1
                        logger.warning("\(source): \(target) \(month): \(error)")
                        if case .paused = error { break }
                        continue
                    }
                    let events: [RawEvent]
                    do throws(CollectorError) {
                        events = try settings.source.parser.events(from: body, context: ResponseContext(work: nil, observedAt: currentTimestamp()))
                    } catch {
                        summary.failures += 1
                        metrics.error(error.kind.rawValue)
                        logger.warning("\(source): \(target) \(month): \(error)")
                        await fetcher.noteUnreadableAnswer(error.kind.rawValue)
                        if await fetcher.isPaused { break }
                        continue
                    }
                    _ = try await producer.sendAll(events.map { router.route($0.encodedJSON(), origin: url).record })
                    try await database.write { db in
                        try db.execute(sql: "INSERT OR REPLACE INTO collected (target, month, at) VALUES (?, ?, ?)",
                                       arguments: [target, month.description, Date().timeIntervalSince1970])
                    }
                    metrics.events.increment(by: events.count)
                    metrics.succeeded()
                    summary.reportsFetched += 1
                    summary.events += events.count
                    summary.fetched.append("\(target) \(month)")
                }
            }
        }
        return summary
    }

    static func lastCompleteMonth() -> ReportMonth {
        let now = Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970) * 1_000_000)!.text
        return ReportMonth(String(now.prefix(7)))!.previous
    }
}
