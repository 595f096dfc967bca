import ALMAggregation
import ALMCore
import ALMProcessor
import ALMRuntime
import ALMSnapshot
import ALMWorkload
import DevBroker
import Foundation
import Kafka
import Logging

import ALMTestSupport

let rules = try! ALMConfiguration(topicsFile: "topics.yaml").aggregationRulesFromProject()

extension ALMConfiguration {
    func aggregationRulesFromProject() throws -> AggregationRules {
        var copy = self
        copy.processor.robotsFile = projectRoot.appendingPathComponent("data/counter-robots/COUNTER_Robots_list.json").path
        return try copy.aggregationRules()
    }
}

extension DevBroker {
    var kafka: KafkaConfiguration { KafkaConfiguration(["bootstrap.servers": bootstrapServers]) }

    func produce(_ workload: WorkloadSpec) async throws -> [WorkloadRecord] {
        let records = Workload(workload).all()
        try await produce(records.map { ProducerRecord(topic: $0.topic, key: $0.key, value: $0.value) })
        return records
    }

    func processorSettings(state: URL, group: String = "alm-processor-test") -> ProcessorSettings {
        var settings = ProcessorSettings(
            kafka: kafka.merging(KafkaConfiguration(["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"])),
            declarations: declarations, stateDirectory: state, rules: rules)
        settings.groupID = group
        settings.untilEnd = true
        return settings
    }
}

/// The numbers a snapshot would hold, from the state directory, as works.jsonl text.
func snapshotText(_ state: URL) throws -> String {
    try StateSnapshot.collect(stateDirectory: state).works
        .sorted { utf8Less($0.work, $1.work) }
        .map { String(decoding: $0.jsonLine(), as: UTF8.self) }
        .joined(separator: "\n")
}

extension DevBroker {
    /// The numbers the processor should reach, computed without it: every raw record as stored in the
    /// broker, each partition's records in offset order, through `RecordIntake` and one engine per
    /// partition. Also how many valid records are late.
    func expected(asOfMilliseconds asOf: Int64? = nil) async throws -> (text: String, late: Int) {
        let all = declarations.rawTopics.flatMap { topic in (0..<topic.partitions).map { TopicPartition(topic.name, $0) } }
        var engines: [Int32: PartitionEngine] = [:]
        var late = 0
        for record in try await readAll(all) where asOf == nil || record.timestampMs! <= asOf! {
            guard case .valid(let event) = RecordIntake.examine(record) else { continue }
            let engine = engines[record.partition] ?? PartitionEngine(rules: rules)
            engines[record.partition] = engine
            if case .late = engine.admit(event) { late += 1 }
        }
        let text = engines.values.flatMap { $0.allAggregates() }.sorted { utf8Less($0.work, $1.work) }
            .map { String(decoding: $0.jsonLine(), as: UTF8.self) }.joined(separator: "\n")
        return (text, late)
    }

    func expectedText() async throws -> String { try await expected().text }
}

