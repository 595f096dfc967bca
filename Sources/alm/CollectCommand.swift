import ALMCollectorRuntime
import ALMCollectors
import ALMCore
import ALMRuntime
import ArgumentParser
import Foundation
import Kafka
import Logging
import Metrics

struct CollectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Turn a source's responses into raw events in alm.raw.<source>.",
        discussion: """
            Without --replay, a pull source is asked about each work of alm.works this instance owns (its \
            consumer group alm-collector-<source> splits the works between instances) when the work falls \
            due. With --replay, a recorded response body is parsed instead of calling the source; a response \
            that covers several works yields events for each. --dry-run prints one JSON event per line \
            instead of producing. Pull sources: \(PullSource.all.keys.sorted().joined(separator: ", ")). \
            Replayable: \(CollectorRegistry.sources.joined(separator: ", ")).
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var file: TopicsCommand.TopicsFileOption
    @OptionGroup var lifecycleOptions: LifecycleOptions
    @Argument(help: "The source.") var source: String
    @Option(help: ArgumentHelp("A recorded response body to parse instead of calling the source.", valueName: "file"))
    var replay: String?
    @Option(help: ArgumentHelp("The work the replayed response is about (any DOI spelling).", valueName: "doi"))
    var work: String?
    @Option(help: ArgumentHelp("Which kind of response the file is, for sources with several.", valueName: "name"))
    var format: String?
    @Option(help: ArgumentHelp("observed_at of the events (RFC 3339; default: now).", valueName: "timestamp"))
    var observedAt: String?
    @Flag(help: "Print the events as JSON lines on stdout instead of producing them.") var dryRun = false
    @Flag(help: "Live: make one round over the works due now (with --stream: follow until the server ends the stream), then exit.")
    var once = false
    @Flag(help: "Follow the source's live stream (wikipedia: EventStreams page-links-change; bluesky: Jetstream) instead of pulling per work.")
    var stream = false
    @Option(help: ArgumentHelp("With --stream: the stream's URL.", valueName: "url")) var streamURL: String?
    @Flag(help: "With --stream: keep only works registered in alm.works.") var registeredOnly = false
    @Option(name: .customLong("file"),
            help: ArgumentHelp("accesslog: the access log to read (combined format), resumed where the last run stopped.", valueName: "path"))
    var logFile: String?
    @Flag(help: "accesslog: keep reading as the log grows and after it is rotated.") var follow = false
    @Option(help: ArgumentHelp("accesslog: this server's name in event ids (default: the log's file name).", valueName: "name"))
    var logName: String?
    @Option(help: ArgumentHelp("Live: where the schedule of each work is kept.", valueName: "dir"))
    var stateDir = "collector-state"
    @Option(help: ArgumentHelp("Live: the source's base URL (overrides collectors.<source>.base_url).", valueName: "url"))
    var baseURL: String?

    func run() async throws {
        if stream { return try await followStream() }
        if let logFile { return try await readLog(logFile) }
        guard let replay else { return try await collectLive() }
        let parser: any ResponseParser
        do { parser = try CollectorRegistry.parser(source: source, format: format) } catch {
            throw ValidationError(error.description)
        }
        var identifiers: WorkIdentifiers?
        if let work {
            do { identifiers = WorkIdentifiers(doi: try DOI.normalize(work)) } catch {
                throw ValidationError("--work \(work): \(error)")
            }
        }
        let observed: Timestamp
        do {
            observed = try observedAt.map { try Timestamp(parsing: $0) } ?? currentTimestamp()
        } catch {
            throw ValidationError("--observed-at: \(error) (expected RFC 3339, e.g. 2026-03-01T00:00:00Z)")
        }
        guard let body = FileManager.default.contents(atPath: replay) else { throw ValidationFailure("cannot read \(replay)") }

        let events: [RawEvent]
        do {
            events = try parser.events(from: Array(body), context: ResponseContext(work: identifiers, observedAt: observed))
        } catch {
            throw ValidationFailure("\(replay): \(error)")
        }
        if dryRun {
            var out = Data()
            for event in events {
                out.append(contentsOf: event.encodedJSON())
                out.append(UInt8(ascii: "\n"))
            }
            FileHandle.standardOutput.write(out)
            return
        }
        let configuration = try options.loadConfiguration()
        let router = try RawEventRouter(declarations: try file.load(configuration))
        let routes = events.map { router.route($0.encodedJSON(), origin: replay) }
        let producer = try KafkaProducer(configuration: configuration.kafka, logger: options.makeLogger("alm.collect"))
        _ = try await producer.sendAll(routes.map(\.record))
        try await producer.close()
        let rejected = routes.filter { if case .rejected = $0 { true } else { false } }.count
        print("\(events.count - rejected) events produced to \(TopicDeclarations.rawTopicPrefix)\(source)"
              + (rejected > 0 ? ", \(rejected) rejected to the dead-letter topic" : ""))
        if rejected > 0 { throw ExitCode(1) }
    }

    private func followStream() async throws {
        guard ["wikipedia", "bluesky"].contains(source) else {
            throw ValidationError("--stream: wikipedia (EventStreams) and bluesky (Jetstream) have live streams; \(source) does not")
        }
        if replay != nil || dryRun { throw ValidationError("--stream does not combine with --replay or --dry-run") }
        let configuration = try options.loadConfiguration()
        let declarations = try file.load(configuration)
        let logger = options.makeLogger("alm.collect")
        var registry: RegistryIndex?
        if registeredOnly {
            guard let works = declarations["alm.works"] else { throw ValidationFailure("topics.yaml declares no alm.works") }
            registry = try await RegistryIndex(kafka: configuration.kafka, partitions: works.partitions, logger: logger)
        }
        defer { if let registry { Task { await registry.close() } } }
        if source == "bluesky" {
            var settings = JetstreamCollectorSettings(kafka: configuration.kafka, declarations: declarations,
                                                      stateDirectory: URL(fileURLWithPath: stateDir))
            if let streamURL { settings.url = streamURL }
            settings.stopAtEnd = once
            settings.registry = registry
            return try await withStatusReports(configuration, declarations) { factory in
                settings.metricsFactory = factory
                let fixed = settings
                report(try await lifecycle(logger).run { stop in try await JetstreamCollector(settings: fixed, logger: logger).run(shouldStop: stop) })
            }
        }
        var settings = StreamCollectorSettings.wikipediaLinks(kafka: configuration.kafka, declarations: declarations,
                                                              stateDirectory: URL(fileURLWithPath: stateDir))
        if let streamURL { settings.url = streamURL }
        settings.registry = registry
        if let agent = configuration.collectors.userAgent { settings.userAgent = agent }
        settings.stopAtEnd = once
        try await withStatusReports(configuration, declarations) { factory in
            settings.metricsFactory = factory
            let fixed = settings
            report(try await lifecycle(logger).run { stop in try await StreamCollector(settings: fixed, logger: logger).run(shouldStop: stop) })
        }
    }

    private func readLog(_ path: String) async throws {
        guard source == "accesslog" else { throw ValidationError("--file is for accesslog") }
        let configuration = try options.loadConfiguration()
        let secret = ProcessInfo.processInfo.environment["ALM_ACCESSLOG_SECRET"].flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        if secret == nil {
            FileHandle.standardError.write(Data("warning: ALM_ACCESSLOG_SECRET is not set: session and id hashes are plain SHA-256 pseudonyms\n".utf8))
        }
        let name = logName ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let declarations = try file.load(configuration)
        var settings = LogFileCollectorSettings(path: path, parser: AccessLogParser(logName: name, secret: secret), kafka: configuration.kafka,
                                                declarations: declarations, stateDirectory: URL(fileURLWithPath: stateDir))
        settings.follow = follow
        let logger = options.makeLogger("alm.collect")
        let summary = try await withStatusReports(configuration, declarations) { factory in
            settings.metricsFactory = factory
            let fixed = settings
            return try await lifecycle(logger).run { stop in try await LogFileCollector(settings: fixed, logger: logger).run(shouldStop: stop) }
        }
        print("accesslog: \(summary.bytesRead) bytes read, \(summary.events) usage events produced, "
              + "\(summary.malformedLines) lines not in combined format, \(summary.rotations) rotations")
    }

    private func report(_ summary: StreamCollectorSummary) {
        print("\(source): \(summary.frames) stream messages read, \(summary.events) raw events produced, "
              + "\(summary.malformedFrames) unreadable, \(summary.connections) connections")
    }

    private func collectReports(_ report: ReportSource) async throws {
        let configuration = try options.loadConfiguration()
        let sourceOptions = configuration.collectors.sources[source]
        guard let targets = sourceOptions?.reportTargets, !targets.isEmpty else {
            throw ValidationError("collectors.\(source).report_targets is not set: list the journals (pmc) or SUSHI customer ids (counter)")
        }
        guard let first = sourceOptions?.firstMonth.flatMap(ReportMonth.init) else {
            throw ValidationError("collectors.\(source).first_month is not set (YYYY-MM)")
        }
        let declarations = try file.load(configuration)
        var settings = ReportCollectorSettings(source: report, targets: targets, firstMonth: first, kafka: configuration.kafka,
                                               declarations: declarations, stateDirectory: URL(fileURLWithPath: stateDir))
        settings.baseURL = baseURL ?? sourceOptions?.baseURL ?? report.defaultBaseURL
        if let months = sourceOptions?.restateMonths { settings.restateMonths = months }
        if let agent = configuration.collectors.userAgent { settings.fetch.userAgent = agent }
        var query: [String] = []
        for (parameter, variable) in (sourceOptions?.queryFromEnvironment ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                throw ValidationError("collectors.\(source).query_from_env.\(parameter): environment variable \(variable) is not set")
            }
            query.append(PullSource.encode(parameter, keepingSlash: false) + "=" + PullSource.encode(value, keepingSlash: false))
        }
        settings.secretQuery = query.isEmpty ? nil : query.joined(separator: "&")
        let summary = try await withStatusReports(configuration, declarations) { factory in
            settings.metricsFactory = factory
            return try await ReportCollector(settings: settings, logger: options.makeLogger("alm.collect")).run()
        }
        print("\(source): \(summary.reportsFetched) reports fetched, \(summary.events) events produced, \(summary.failures) failures")
    }

    private func collectLive() async throws {
        if let report = ReportSource.all[source] { return try await collectReports(report) }
        guard let pull = PullSource.all[source] else {
            throw ValidationError("\(source) is not a pull source (pull sources: \(PullSource.all.keys.sorted().joined(separator: ", "))); "
                + "use --replay FILE for its recorded responses")
        }
        if dryRun { throw ValidationError("--dry-run needs --replay FILE") }
        let configuration = try options.loadConfiguration()
        let declarations = try file.load(configuration)
        var settings = PullCollectorSettings(source: pull, kafka: configuration.kafka, declarations: declarations,
                                             stateDirectory: URL(fileURLWithPath: stateDir))
        let sourceOptions = configuration.collectors.sources[source]
        settings.baseURL = baseURL ?? sourceOptions?.baseURL ?? pull.defaultBaseURL
        settings.once = once
        if let languages = sourceOptions?.languages { settings.languages = languages }
        if let agent = configuration.collectors.userAgent { settings.fetch.userAgent = agent }
        if let rate = sourceOptions?.requestsPerSecond { settings.fetch.requestsPerSecond = rate }
        if let days = sourceOptions?.refreshDays {
            settings.schedule.youngIntervalSeconds = days.young * 86_400
            settings.schedule.recentIntervalSeconds = days.recent * 86_400
            settings.schedule.olderIntervalSeconds = days.older * 86_400
        }
        for (header, variable) in sourceOptions?.headersFromEnvironment ?? [:] {
            guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                throw ValidationError("collectors.\(source).headers_from_env.\(header): environment variable \(variable) is not set")
            }
            settings.fetch.headers.append((header, value))
        }
        let logger = options.makeLogger("alm.collect")
        let summary = try await withStatusReports(configuration, declarations) { factory in
            settings.metricsFactory = factory
            let fixed = settings
            return try await lifecycle(logger).run { stop in try await PullCollector(settings: fixed, logger: logger).run(shouldStop: stop) }
        }
        print("\(source): \(summary.worksFetched) works fetched, \(summary.eventsProduced) events produced, "
              + "\(summary.failures) failures, \(summary.notApplicable) works the source cannot be asked about")
    }

    private func lifecycle(_ logger: Logger) -> Lifecycle {
        Lifecycle(name: "alm collect \(source)", healthPort: lifecycleOptions.healthPort, logger: logger)
    }

    /// Runs a long-running collector with metrics that also feed this instance's reports to alm.status
    /// (every 30 s and once at the end), when topics.yaml declares it.
    private func withStatusReports<T>(_ configuration: ALMConfiguration, _ declarations: TopicDeclarations,
                                      _ body: (MetricsFactory) async throws -> T) async throws -> T {
        guard declarations[CollectorStatusPublisher.topic] != nil else { return try await body(MetricsSystem.factory) }
        let logger = options.makeLogger("alm.collect")
        let board = CollectorStatusBoard()
        let producer = try KafkaProducer(configuration: configuration.kafka, logger: logger)
        let publisher = CollectorStatusPublisher(source: source, board: board, producer: producer, logger: logger)
        let reports = Task { await publisher.run() }
        let result: Result<T, any Error>
        do { result = .success(try await body(MultiplexMetricsHandler(factories: [MetricsSystem.factory, board]))) } catch {
            result = .failure(error)
        }
        reports.cancel()
        await reports.value
        try? await producer.close()
        return try result.get()
    }
}
