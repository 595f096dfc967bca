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
        var batch: [ProducerRecord] = []
        batch.reserveCapacity(10_000)
        var produced = 0, malformed = 0
        func flush() async throws {
            try await producer.sendAll(batch)
            produced += batch.count
            batch.removeAll(keepingCapacity: true)
        }
        let workload = Workload(WorkloadSpec(records: records, works: works, seed: seed))
        var pending: [WorkloadRecord] = []
        workload.generate { pending.append($0) }
        for record in pending {
            guard declared.contains(record.topic) else {
                throw ValidationFailure("the workload uses \(record.topic), which topics.yaml does not declare")
            }
            if record.isMalformed { malformed += 1 }
            batch.append(ProducerRecord(topic: record.topic, key: record.key, value: record.value))
            if batch.count == 10_000 { try await flush() }
        }
        if !batch.isEmpty { try await flush() }
        try await producer.close()
        print("produced \(produced) records (\(malformed) malformed) for \(works) works, seed \(seed)")
    }
}
