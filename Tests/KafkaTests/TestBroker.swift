import DevBroker
import Foundation
import Kafka
import Logging

let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Each test that needs Kafka starts its own dev broker on a free port and stops it afterwards.
func withDevBroker<T>(_ name: String = #function, _ body: (DevBroker) async throws -> T) async throws -> T {
    try await DevBroker.withTemporary(projectRoot: projectRoot, name: name, body)
}

let testLogger: Logger = {
    var logger = Logger(label: "alm.test")
    logger.logLevel = ProcessInfo.processInfo.environment["ALM_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}()

extension DevBroker {
    var kafka: KafkaConfiguration { KafkaConfiguration(["bootstrap.servers": bootstrapServers]) }

    func consumerConfig(group: String, extra: [String: String] = [:]) -> KafkaConfiguration {
        kafka.merging(KafkaConfiguration([
            "group.id": group,
            // The dev broker completes a join after about half the session timeout.
            "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "500",
        ])).merging(KafkaConfiguration(extra))
    }

    func createTopic(_ name: String, partitions: Int32) async throws {
        let admin = try KafkaAdmin(configuration: kafka, logger: testLogger)
        let result = try await admin.createTopics([TopicSpecification(name: name, partitions: partitions, replicationFactor: 1)])
        await admin.close()
        if let error = result[name] ?? nil { throw error }
    }
}

/// Polls until `condition` holds for the records gathered so far, or the deadline passes.
func consume(_ consumer: KafkaConsumer, until deadline: Duration = .seconds(60),
             _ condition: ([ConsumerRecord]) -> Bool) async throws -> [ConsumerRecord] {
    var records: [ConsumerRecord] = []
    let end = ContinuousClock.now + deadline
    while !condition(records), ContinuousClock.now < end {
        let batch = try await consumer.poll(maxRecords: 5000, timeout: .milliseconds(200))
        records += batch.records
    }
    return records
}
