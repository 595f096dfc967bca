import DevBroker
import Foundation
import Kafka
import Testing

@Suite("produce and consume through the dev broker", .serialized, .timeLimit(.minutes(5)))
struct ProduceConsumeTests {
    @Test("100 000 keyed records to 12 partitions come back exactly once, in order, with keys and headers")
    func hundredThousandRecords() async throws {
        try await withDevBroker { broker in
            let topic = "alm.test.bulk"
            try await broker.createTopic(topic, partitions: 12)
            let total = 100_000
            let producer = try KafkaProducer(configuration: broker.kafka, logger: testLogger)
            var reports: [DeliveryReport] = []
            for start in stride(from: 0, to: total, by: 10_000) {
                let records = (start..<start + 10_000).map { i in
                    ProducerRecord(topic: topic, key: "work-\(i % 997)", value: "\(i)",
                                   headers: [KafkaHeader(name: "seq", string: "\(i)"), KafkaHeader(name: "empty", value: nil)])
                }
                reports += try await producer.sendAll(records)
            }
            try await producer.close()
            #expect(reports.count == total)
            #expect(reports.allSatisfy { $0.error == nil && $0.offset != nil })
            #expect(Set(reports.map(\.partition)).count == 12)

            let consumer = try KafkaConsumer(configuration: broker.consumerConfig(group: "bulk"), logger: testLogger)
            try consumer.subscribe(topics: [topic])
            let records = try await consume(consumer, until: .seconds(120)) { $0.count >= total }
            await consumer.close()

            #expect(records.count == total)
            let sequences = records.map { Int($0.valueString)! }
            #expect(Set(sequences).count == total, "every record exactly once")
            var partitionOfKey: [String: Int32] = [:]
            var lastSequence: [Int32: Int] = [:]
            var lastOffset: [Int32: Int64] = [:]
            for record in records {
                let sequence = Int(record.valueString)!
                #expect(record.keyString == "work-\(sequence % 997)")
                #expect(record.header("seq")?.stringValue == "\(sequence)")
                #expect(record.headers.contains(KafkaHeader(name: "empty", value: nil)))
                #expect(partitionOfKey.updateValue(record.partition, forKey: record.keyString!) ?? record.partition == record.partition,
                        "one key, one partition")
                #expect(sequence > lastSequence[record.partition, default: -1], "produce order kept within a partition")
                #expect(record.offset > lastOffset[record.partition, default: -1])
                lastSequence[record.partition] = sequence
                lastOffset[record.partition] = record.offset
            }
        }
    }
}
