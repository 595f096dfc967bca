import ArgumentParser

@main
struct ALM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alm",
        abstract: "Streaming article-level metrics: collectors, a stream processor and sinks over Kafka.",
        subcommands: [VersionCommand.self, TopicsCommand.self, EventsCommand.self, WorksCommand.self, CollectCommand.self, GenerateCommand.self, ProcessCommand.self, SnapshotCommand.self, ReplayCommand.self, ReportCommand.self, ServeCommand.self, BenchCommand.self, DevCommand.self]
    )
}
