import ALMCore
import ALMRuntime
import ArgumentParser
import Foundation
import Kafka

struct WorksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "works", abstract: "The registry of tracked works (alm.works).", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Publish works from a CSV or JSON-lines file to alm.works, keyed by normalised DOI.",
            discussion: """
                Columns: doi (required), pmid, pmcid, arxiv, url, title, published. Invalid rows are reported \
                with their row number and skipped; the others are still published. Exit status 1 if any row was invalid.
                """)

        @OptionGroup var options: GlobalOptions
        @OptionGroup var file: TopicsCommand.TopicsFileOption
        @Argument(help: "A .csv or .jsonl file.") var path: String
        @Option(help: "csv or jsonl (default: from the file name).") var format: WorksFile.Format?
        @Option(help: "The registry topic.") var topic = "alm.works"

        func run() async throws {
            let configuration = try options.loadConfiguration()
            guard try file.load(configuration)[topic] != nil else {
                throw ValidationFailure("topics.yaml declares no topic \(topic)")
            }
            guard let format = format ?? WorksFile.format(ofPath: path) else {
                throw ValidationError("cannot tell the format of \(path) from its name: pass --format csv or --format jsonl")
            }
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationFailure("cannot read \(path)") }
            let rows = try WorksFile.parse(String(decoding: data, as: UTF8.self), format: format)

            var latest: [String: WorkRecord] = [:]
            var order: [String] = []
            var rejected = 0
            for row in rows {
                switch row.result {
                case .success(let record):
                    if latest.updateValue(record, forKey: record.doi) == nil { order.append(record.doi) }
                case .failure(let error):
                    rejected += 1
                    FileHandle.standardError.write(Data("\(path): row \(row.row): \(error)\n".utf8))
                }
            }
            let producer = try KafkaProducer(configuration: configuration.kafka, logger: options.makeLogger("alm.works"))
            _ = try await producer.sendAll(order.map { ProducerRecord(topic: topic, key: Array($0.utf8), value: latest[$0]!.jsonLine()) })
            try await producer.close()
            let repeated = rows.count - rejected - order.count
            print("\(order.count) works published to \(topic)"
                  + (repeated > 0 ? " (\(repeated) repeated DOIs: the last row of each counts)" : "")
                  + (rejected > 0 ? ", \(rejected) rows rejected" : ""))
            if rejected > 0 { throw ExitCode(1) }
        }
    }
}

extension WorksFile.Format: ExpressibleByArgument {}
