import ALMBench
import ALMTestSupport
import ALMWorkload
import Kafka
import Testing

@Suite("producing a generated workload, streaming", .serialized, .timeLimit(.minutes(5)))
struct WorkloadProducerTests {
    @Test("every generated record reaches its raw topic once, with its key, from a generator a few batches ahead")
    func everyRecordOnce() async throws {
        let spec = WorkloadSpec(records: 25_500, works: 2_000, seed: 11)  // 25 whole batches and a part
        try await withPipelineBroker { broker in
            let producer = try KafkaProducer(configuration: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]),
                                             logger: testLogger)
            let summary = try await WorkloadProducer.produce(spec, declared: Set(declarations.rawTopics.map(\.name)),
                                                             producer: producer, batchSize: 1_000, batchesAhead: 2)
            try await producer.close()
            let expected = Workload(spec).all()
            #expect(summary.produced == 25_500 && summary.malformed == expected.filter(\.isMalformed).count)

            var read: [String: Int] = [:]
            for topic in Set(expected.map(\.topic)) {
                for record in try await broker.readAll(topic: topic) {
                    read[record.topic + "\u{0}" + String(decoding: record.key ?? [], as: UTF8.self) + "\u{0}"
                         + String(decoding: record.value, as: UTF8.self), default: 0] += 1
                }
            }
            var wanted: [String: Int] = [:]
            for record in expected {
                wanted[record.topic + "\u{0}" + String(decoding: record.key, as: UTF8.self) + "\u{0}"
                       + String(decoding: record.value, as: UTF8.self), default: 0] += 1
            }
            #expect(read == wanted)
        }
    }

    @Test("a workload topic that topics.yaml does not declare is an error before anything is produced")
    func undeclaredTopic() async throws {
        try await withPipelineBroker { broker in
            let producer = try KafkaProducer(configuration: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]),
                                             logger: testLogger)
            let declared = Set(declarations.rawTopics.map(\.name)).subtracting(["alm.raw.wikipedia"])
            await #expect(throws: BenchError.self) {
                try await WorkloadProducer.produce(WorkloadSpec(records: 1_000, works: 100), declared: declared, producer: producer)
            }
            try await producer.close()
            #expect(try await broker.readAll(topic: "alm.raw.crossref").isEmpty)
        }
    }
}
