import ALMCore
import ALMRuntime
import DevBroker
import Foundation
import Kafka
import Logging

let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let declarations = try! TopicDeclarations.load(file: projectRoot.appendingPathComponent("topics.yaml"))

let sharedDirectory: URL = {
    if let path = ProcessInfo.processInfo.environment["ALM_SHARED"] { return URL(fileURLWithPath: path) }
    return projectRoot.deletingLastPathComponent().appendingPathComponent("shared")
}()

let testLogger: Logger = {
    var logger = Logger(label: "alm.test")
    logger.logLevel = ProcessInfo.processInfo.environment["ALM_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}()

func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("alm-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

/// A dev broker with every declared topic applied.
func withPipelineBroker<T>(_ name: String = #function, _ body: (DevBroker) async throws -> T) async throws -> T {
    try await DevBroker.withTemporary(projectRoot: projectRoot, name: name) { broker in
        let admin = try KafkaAdmin(configuration: broker.kafka, logger: testLogger)
        _ = try await TopicApplier(admin: admin, logger: testLogger).apply(declarations)
        await admin.close()
        return try await body(broker)
    }
}

extension DevBroker {
    var kafka: KafkaConfiguration {
        KafkaConfiguration(["bootstrap.servers": bootstrapServers, "session.timeout.ms": "6000", "heartbeat.interval.ms": "500"])
    }

    /// Publishes works to alm.works as `alm works import` does.
    func register(_ works: [WorkRecord]) async throws {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(["bootstrap.servers": bootstrapServers]), logger: testLogger)
        _ = try await producer.sendAll(works.map { ProducerRecord(topic: "alm.works", key: Array($0.doi.utf8), value: $0.jsonLine()) })
        try await producer.close()
    }

    /// Every record of a topic, read from the beginning to its end.
    func readAll(topic: String, partitions: Int32 = 12) async throws -> [ConsumerRecord] {
        let consumer = try KafkaConsumer(
            configuration: KafkaConfiguration(["bootstrap.servers": bootstrapServers, "group.id": "reader-\(UUID().uuidString)",
                                               "enable.partition.eof": "true"]),
            logger: testLogger)
        let all = (0..<partitions).map { TopicPartition(topic, $0) }
        try consumer.assign(all.map { TopicPartitionOffset($0, offset: TopicPartitionOffset.beginning) })
        var records: [ConsumerRecord] = [], ended: Set<TopicPartition> = []
        let deadline = ContinuousClock.now + .seconds(60)
        while ended != Set(all), ContinuousClock.now < deadline {
            let batch = try await consumer.poll(timeout: .milliseconds(200))
            records += batch.records
            for record in batch.records { ended.remove(record.topicPartition) }
            ended.formUnion(batch.endOfPartition.map(\.topicPartition))
        }
        await consumer.close()
        return records
    }
}

func decoded(_ records: [ConsumerRecord]) -> [RawEvent] {
    records.compactMap { try? RawEventDecoder.decode($0.value) }
}
