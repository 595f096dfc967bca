import ALMRuntime
import ArgumentParser
import Foundation
import Kafka
import Logging

/// Options every command takes (see docs/configuration.md): flags beat the file, the file beats defaults.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customShort("X"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("A librdkafka property, passed through untouched (repeatable).", valueName: "key=value"))
    var kafkaProperties: [String] = []

    @Option(name: .long, help: ArgumentHelp("A YAML configuration file.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func loadConfiguration() throws -> ALMConfiguration {
        let file = try config.map { path in try ALMConfiguration.load(file: URL(fileURLWithPath: path)) } ?? ALMConfiguration()
        return try file.overriding(kafkaAssignments: kafkaProperties)
    }

    /// These options again, for a child `alm` command; `bootstrap.servers` is left to the caller.
    var passThrough: [String] {
        (config.map { ["--config", $0] } ?? [])
            + kafkaProperties.filter { !$0.hasPrefix("bootstrap.servers=") }.flatMap { ["-X", $0] }
    }

    func makeLogger(_ label: String) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = logLevel
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
