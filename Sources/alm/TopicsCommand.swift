import ALMRuntime
import ArgumentParser
import Foundation
import Kafka

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics", abstract: "Create, validate and list the topics declared in topics.yaml.",
        subcommands: [Apply.self, List.self])

    struct TopicsFileOption: ParsableArguments {
        @Option(help: ArgumentHelp("Topic declarations (default: topics_file of the configuration, else topics.yaml).", valueName: "file"))
        var topics: String?

        func load(_ configuration: ALMConfiguration) throws -> TopicDeclarations {
            try TopicDeclarations.load(file: URL(fileURLWithPath: topics ?? configuration.topicsFile))
        }
    }

    struct ReplicationOption: ParsableArguments {
        @Option(help: ArgumentHelp("Copies of every topic, instead of the replication_factor of topics.yaml (3 on a three-broker cluster).",
                                   valueName: "n"))
        var replicationFactor: Int16?

        func validate() throws {
            if let replicationFactor, replicationFactor < 1 { throw ValidationError("--replication-factor must be at least 1") }
        }

        func apply(to declarations: TopicDeclarations) -> TopicDeclarations {
            replicationFactor.map(declarations.replicated) ?? declarations
        }
    }

    /// Loads the declarations and runs `body` with an applier whose admin client is closed afterwards.
    static func withApplier<T>(_ options: GlobalOptions, _ file: TopicsFileOption, _ replication: ReplicationOption,
                               _ body: (TopicDeclarations, TopicApplier) async throws -> T) async throws -> T {
        let configuration = try options.loadConfiguration()
        let declarations = replication.apply(to: try file.load(configuration))
        let logger = options.makeLogger("alm.topics")
        let admin = try KafkaAdmin(configuration: configuration.kafka, logger: logger)
        do {
            let result = try await body(declarations, TopicApplier(admin: admin, logger: logger))
            await admin.close()
            return result
        } catch {
            await admin.close()
            throw error
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the declared topics that are missing; report any that differ (idempotent).")

        @OptionGroup var options: GlobalOptions
        @OptionGroup var file: TopicsFileOption
        @OptionGroup var replication: ReplicationOption

        func run() async throws {
            do {
                let outcome = try await TopicsCommand.withApplier(options, file, replication) { declarations, applier in
                    try await applier.apply(declarations)
                }
                for name in outcome.created { print("created   \(name)") }
                for name in outcome.unchanged { print("ok        \(name)") }
                for name in outcome.unverifiedConfig { print("warning   \(name): the broker did not report its configs") }
                print("\(outcome.created.count) created, \(outcome.unchanged.count) unchanged")
            } catch let error as TopicMismatchError {
                throw ValidationFailure(error.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the declared topics and their state on the broker.")

        @OptionGroup var options: GlobalOptions
        @OptionGroup var file: TopicsFileOption
        @OptionGroup var replication: ReplicationOption

        func run() async throws {
            let (declarations, existing) = try await TopicsCommand.withApplier(options, file, replication) { declarations, applier in
                (declarations, try await applier.existing(declarations))
            }
            let plan = TopicPlan(declarations: declarations, existing: existing)
            let width = declarations.topics.map(\.name.count).max() ?? 0
            for topic in declarations.topics {
                let state: String
                if plan.create.contains(where: { $0.name == topic.name }) {
                    state = "missing"
                } else if plan.mismatches.contains(where: { $0.topic == topic.name }) {
                    state = "DIFFERS"
                } else {
                    state = "ok"
                }
                let name = topic.name.padding(toLength: width, withPad: " ", startingAt: 0)
                print("\(name)  \(String(topic.partitions).leftPadded(3))p  \(state.padding(toLength: 7, withPad: " ", startingAt: 0))  \(topic.description)")
            }
            for mismatch in plan.mismatches { print("  \(mismatch)") }
        }
    }
}

/// An error whose message is the whole story (printed without a type name), exit code 1.
struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
