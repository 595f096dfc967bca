import ALMCore
import ALMRuntime
import ArgumentParser
import Foundation
import Kafka

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Produce raw events from files, or read the raw topics back.",
        subcommands: [Produce.self, Tail.self])

    struct Produce: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate raw events (JSON, one per line) and produce each to alm.raw.<source>, keyed by work id.",
            discussion: "Invalid events go to alm.dlq with the reason in headers and are reported; the others are still produced. Exit status 1 if any was invalid.")

        @OptionGroup var options: GlobalOptions
        @OptionGroup var file: TopicsCommand.TopicsFileOption
        @Argument(help: "Files of raw events, one JSON object per line.") var files: [String]

        func run() async throws {
            let configuration = try options.loadConfiguration()
            let router = try RawEventRouter(declarations: try file.load(configuration))
            var routes: [RawEventRouter.Route] = []
            for path in files {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ValidationFailure("cannot read \(path)")
                }
                for (number, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
                where !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                    routes.append(router.route(Array(line), origin: "\(path):\(number + 1)"))
                }
            }
            let producer = try KafkaProducer(configuration: configuration.kafka, logger: options.makeLogger("alm.events"))
            let reports = try await producer.sendAll(routes.map(\.record))
            try await producer.close()
            var rejected = 0
            for (route, report) in zip(routes, reports) {
                switch route {
                case .accepted(let record, let event):
                    print("\(report.topic)[\(report.partition)]@\(report.offset ?? -1)  \(event.kind.rawValue) \(event.metric)=\(event.value)  key=\(record.keyString)")
                case .rejected(let record, let code, let message):
                    rejected += 1
                    let origin = record.headers.first { $0.name == DeadLetterHeader.origin }?.stringValue ?? ""
                    FileHandle.standardError.write(Data("\(origin): \(code): \(message) (sent to \(report.topic))\n".utf8))
                }
            }
            print("\(routes.count - rejected) produced, \(rejected) rejected to the dead-letter topic")
            if rejected > 0 { throw ExitCode(1) }
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the raw topics through a consumer group, print each event and commit.")

        @OptionGroup var options: GlobalOptions
        @OptionGroup var file: TopicsCommand.TopicsFileOption
        @Option(help: "Consumer group.") var group: String = "alm-tail"
        @Flag(help: "Stop when every assigned partition has reached its end.") var untilEnd = false
        @Option(help: "Give up waiting for the group and for records after this many seconds.") var timeout: Int = 60

        func run() async throws {
            let configuration = try options.loadConfiguration()
            let topics = try file.load(configuration).rawTopics.map(\.name)
            var kafka = configuration.kafka
            kafka["group.id"] = group
            if untilEnd { kafka["enable.partition.eof"] = "true" }
            let consumer = try KafkaConsumer(configuration: kafka, logger: options.makeLogger("alm.events"))
            try consumer.subscribe(topics: topics)

            var ended: Set<TopicPartition> = []
            var count = 0
            let deadline = ContinuousClock.now + .seconds(timeout)
            while ContinuousClock.now < deadline {
                let batch = try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(200))
                for error in batch.errors { FileHandle.standardError.write(Data("\(error)\n".utf8)) }
                for record in batch.records {
                    ended.remove(record.topicPartition)
                    count += 1
                    print("\(record.topic)[\(record.partition)]@\(record.offset) key=\(record.keyString ?? "-")")
                    print("  \(record.valueString)")
                }
                ended.formUnion(batch.endOfPartition.map(\.topicPartition))
                let next = Dictionary(batch.records.map { ($0.topicPartition, $0.offset + 1) }, uniquingKeysWith: max)
                if !next.isEmpty {
                    try consumer.store(next.map { TopicPartitionOffset($0.key, offset: $0.value) })
                    try await consumer.commit()
                }
                if untilEnd {
                    let assigned = try consumer.assignment()
                    if !assigned.isEmpty && Set(assigned).isSubset(of: ended) { break }
                }
            }
            let assigned = try consumer.assignment()
            await consumer.close()
            print("\(count) records read by group \(group) from \(assigned.count) partitions of \(topics.count) topics; offsets committed")
            if untilEnd && (assigned.isEmpty || !Set(assigned).isSubset(of: ended)) {
                throw ValidationFailure("did not reach the end of every partition within \(timeout) s")
            }
        }
    }
}

extension ProducerRecord {
    var keyString: String { key.map { String(decoding: $0, as: UTF8.self) } ?? "-" }
}
