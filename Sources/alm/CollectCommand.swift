import ALMCollectors
import ALMCore
import ALMRuntime
import ArgumentParser
import Foundation
import Kafka

struct CollectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Turn a source's responses into raw events in alm.raw.<source>.",
        discussion: """
            With --replay, a recorded response body is parsed instead of calling the source; a response that \
            covers several works yields events for each. --dry-run prints one JSON event per line instead of \
            producing. Sources: \(CollectorRegistry.sources.joined(separator: ", ")).
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var file: TopicsCommand.TopicsFileOption
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

    func run() async throws {
        let parser: any ResponseParser
        do { parser = try CollectorRegistry.parser(source: source, format: format) } catch {
            throw ValidationError(error.description)
        }
        guard let replay else {
            throw ValidationError("\(source): only --replay FILE is available yet; live collection from the source's API comes with the scheduler")
        }
        var identifiers: WorkIdentifiers?
        if let work {
            do { identifiers = WorkIdentifiers(doi: try DOI.normalize(work)) } catch {
                throw ValidationError("--work \(work): \(error)")
            }
        }
        let observed: Timestamp
        do {
            observed = try observedAt.map { try Timestamp(parsing: $0) } ?? Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000) * 1000)!
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
}
