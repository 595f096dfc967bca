import DevBroker
import Foundation
import Kafka
import Testing

@Suite("producer resilience", .serialized, .timeLimit(.minutes(5)))
struct ProducerResilienceTests {
    @Test("a producer facing a broker frozen by SIGSTOP for 20 s delivers everything once it resumes")
    func brokerPausedTwentySeconds() async throws {
        try await withDevBroker { broker in
            let topic = "alm.test.frozen"
            try await broker.createTopic(topic, partitions: 3)
            let producer = try KafkaProducer(configuration: broker.kafka, logger: testLogger)
            try await producer.sendAll([ProducerRecord(topic: topic, key: "warm", value: "-1")])

            broker.pause()
            let frozenAt = ContinuousClock.now
            let resumer = Task {
                try await Task.sleep(for: .seconds(20))
                broker.resume()
            }
            let reports = try await producer.sendAll((0..<5_000).map { ProducerRecord(topic: topic, key: "k\($0 % 11)", value: "\($0)") })
            let waited = ContinuousClock.now - frozenAt
            try await resumer.value
            try await producer.close()
            #expect(waited >= .seconds(19), "deliveries could only complete after the broker resumed (\(waited))")
            #expect(reports.count == 5_000 && reports.allSatisfy { $0.error == nil })

            let consumer = try KafkaConsumer(configuration: broker.consumerConfig(group: "frozen"), logger: testLogger)
            try consumer.subscribe(topics: [topic])
            let records = try await consume(consumer) { $0.count >= 5_001 }
            let extra = try await consumer.poll(timeout: .seconds(1)).records
            await consumer.close()
            let values = (records + extra).map(\.valueString)
            #expect(values.count == 5_001, "each record exactly once (idempotent producer)")
            #expect(Set(values) == Set((-1..<5_000).map { "\($0)" }))
        }
    }
}
