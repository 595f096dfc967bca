import ALMWorkload
import Kafka

/// Produces a generated workload to its raw topics (`alm generate` and `alm bench`).
public enum WorkloadProducer {
    public struct Summary: Sendable {
        public var produced = 0
        public var malformed = 0
    }

    /// Every record's topic must be one of `declared`; nothing is produced otherwise.
    public static func produce(_ spec: WorkloadSpec, declared: Set<String>, producer: KafkaProducer,
                               batchSize: Int = 10_000) async throws -> Summary {
        var records: [ProducerRecord] = []
        records.reserveCapacity(spec.records)
        var summary = Summary()
        try Workload(spec).generate { record in
            guard declared.contains(record.topic) else {
                throw BenchError("the workload uses \(record.topic), which topics.yaml does not declare")
            }
            if record.isMalformed { summary.malformed += 1 }
            records.append(ProducerRecord(topic: record.topic, key: record.key, value: record.value))
        }
        var start = 0
        while start < records.count {
            let end = min(start + batchSize, records.count)
            try await producer.sendAll(Array(records[start..<end]))
            summary.produced += end - start
            start = end
        }
        return summary
    }
}
