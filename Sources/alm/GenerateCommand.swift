import ALMBench
import ALMRuntime
import ALMWorkload
import ArgumentParser
import Kafka

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Produce a seeded, realistic workload of raw records (demo, tests, benchmark).",
        discussion: "Zipf-distributed works, several sources, duplicate deliveries, retractions (some before their add), totals re-observed out of order, restated monthly counts, usage sessions with double-click bursts and robots, and a few malformed records.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var file: TopicsCommand.TopicsFileOption
    @Option(help: "Records to produce.") var records: Int = 10_000
    @Option(help: "Distinct works.") var works: Int = 1_000
    @Option(help: "Random seed: the same seed produces the same records.") var seed: UInt64 = 1

    func run() async throws {
        let configuration = try options.loadConfiguration()
        let declared = Set(try file.load(configuration).rawTopics.map(\.name))
        let producer = try KafkaProducer(configuration: configuration.kafka, logger: options.makeLogger("alm.generate"))
        let summary: WorkloadProducer.Summary
        do {
            summary = try await WorkloadProducer.produce(WorkloadSpec(records: records, works: works, seed: seed),
                                                         declared: declared, producer: producer)
        } catch {
            try? await producer.close(timeout: .seconds(5))
            throw error
        }
        try await producer.close()
        print("produced \(summary.produced) records (\(summary.malformed) malformed) for \(works) works, seed \(seed)")
    }
}
