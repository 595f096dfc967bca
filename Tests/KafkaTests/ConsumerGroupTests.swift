import DevBroker
import Foundation
import Kafka
import Synchronization
import Testing

@Suite("consumer groups on the dev broker", .serialized, .timeLimit(.minutes(5)))
struct ConsumerGroupTests {
    /// Records every rebalance a consumer sees.
    final class RebalanceLog: Sendable {
        let events = Mutex<[RebalanceEvent]>([])
        func listener(_ event: RebalanceEvent) -> [TopicPartitionOffset] {
            events.withLock { $0.append(event) }
            return []
        }
    }

    @Test("two consumers split co-partitioned topics (partition p of both on one member); when one leaves the other takes all")
    func splitAndHandOver() async throws {
        try await withDevBroker { broker in
            let topics = ["alm.test.group.a", "alm.test.group.b"]
            for topic in topics { try await broker.createTopic(topic, partitions: 6) }
            let config = broker.consumerConfig(group: "split")
            let logA = RebalanceLog(), logB = RebalanceLog()
            let a = try KafkaConsumer(configuration: config, logger: testLogger, onRebalance: logA.listener)
            let b = try KafkaConsumer(configuration: config, logger: testLogger, onRebalance: logB.listener)
            try a.subscribe(topics: topics)
            try b.subscribe(topics: topics)

            // Keep both polling (rebalances are served inside poll) until each owns partitions.
            let all = topics.flatMap { topic in (0..<6).map { TopicPartition(topic, Int32($0)) } }.sorted()
            var assignedA: [TopicPartition] = [], assignedB: [TopicPartition] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                async let pollA = a.poll(timeout: .milliseconds(100))
                async let pollB = b.poll(timeout: .milliseconds(100))
                _ = try await (pollA, pollB)
                assignedA = try a.assignment()
                assignedB = try b.assignment()
                if !assignedA.isEmpty && !assignedB.isEmpty && (assignedA + assignedB).count == all.count { break }
            }
            #expect(assignedA.count == 6 && assignedB.count == 6, "range assignor splits 12 partitions 6/6: \(assignedA) \(assignedB)")
            #expect(Set(assignedA).isDisjoint(with: assignedB))
            #expect((assignedA + assignedB).sorted() == all)
            for assigned in [assignedA, assignedB] {
                let numbers = topics.map { topic in Set(assigned.filter { $0.topic == topic }.map(\.partition)) }
                #expect(numbers[0] == numbers[1], "co-partitioned: the same partition numbers of both topics")
            }

            await b.close()
            #expect(logB.events.withLock { $0.last } == .revoked(assignedB), "leaving revokes what it held")

            let takeOverDeadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < takeOverDeadline, try a.assignment() != all {
                _ = try await a.poll(timeout: .milliseconds(100))
            }
            #expect(try a.assignment() == all)
            #expect(logA.events.withLock { $0.contains(.assigned(all)) })
            await a.close()
        }
    }

    @Test("committed offsets survive a consumer restart: nothing re-read, nothing skipped")
    func committedOffsetsSurviveRestart() async throws {
        try await withDevBroker { broker in
            let topic = "alm.test.commit"
            try await broker.createTopic(topic, partitions: 4)
            let producer = try KafkaProducer(configuration: broker.kafka, logger: testLogger)
            try await producer.sendAll((0..<2_000).map { ProducerRecord(topic: topic, key: "k\($0 % 37)", value: "\($0)") })

            let config = broker.consumerConfig(group: "restart")
            // First life: read 1 000 records, store and commit exactly those.
            let first = try KafkaConsumer(configuration: config, logger: testLogger)
            try first.subscribe(topics: [topic])
            var firstLife: [ConsumerRecord] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while firstLife.count < 1_000, ContinuousClock.now < deadline {
                let batch = try await first.poll(maxRecords: 1_000 - firstLife.count, timeout: .milliseconds(200))
                firstLife += batch.records
            }
            #expect(firstLife.count == 1_000)
            let next = Dictionary(firstLife.map { ($0.topicPartition, $0.offset + 1) }, uniquingKeysWith: max)
            try first.store(next.map { TopicPartitionOffset($0.key, offset: $0.value) })
            try await first.commit()
            let committed = try await first.committed(next.keys.sorted())
            #expect(Dictionary(uniqueKeysWithValues: committed.map { ($0.topicPartition, $0.offset) }) == next)
            await first.close()

            // Second life: the same group starts after the commit and reads the rest.
            try await producer.sendAll((2_000..<2_500).map { ProducerRecord(topic: topic, key: "k\($0 % 37)", value: "\($0)") })
            try await producer.close()
            let second = try KafkaConsumer(configuration: config, logger: testLogger)
            try second.subscribe(topics: [topic])
            let secondLife = try await consume(second) { $0.count >= 1_500 }
            // Anything more would arrive now; give it a moment to show up.
            let extra = try await second.poll(timeout: .seconds(1)).records
            await second.close()

            let seen = (firstLife + secondLife + extra).map { Int($0.valueString)! }
            #expect(secondLife.count + extra.count == 1_500, "the rest, no more")
            #expect(seen.count == 2_500 && Set(seen) == Set(0..<2_500), "no record re-read, none skipped")
        }
    }

    @Test("pause stops a partition's records until resume; seek rewinds it; EOF marks its end")
    func pauseResumeSeekAndEndOfPartition() async throws {
        try await withDevBroker { broker in
            let topic = "alm.test.pause"
            try await broker.createTopic(topic, partitions: 2)
            let producer = try KafkaProducer(configuration: broker.kafka, logger: testLogger)
            try await producer.sendAll((0..<100).map { ProducerRecord(topic: topic, partition: Int32($0 % 2), key: nil, value: Array("\($0)".utf8)) })
            try await producer.close()

            let consumer = try KafkaConsumer(
                configuration: broker.consumerConfig(group: "pause", extra: ["enable.partition.eof": "true"]), logger: testLogger)
            let p0 = TopicPartition(topic, 0), p1 = TopicPartition(topic, 1)
            try consumer.assign([TopicPartitionOffset(p0, offset: TopicPartitionOffset.beginning),
                                 TopicPartitionOffset(p1, offset: TopicPartitionOffset.beginning)])
            try consumer.pause([p1])
            var records: [ConsumerRecord] = [], ends: Set<TopicPartitionOffset> = []
            let deadline = ContinuousClock.now + .seconds(30)
            while !ends.contains(TopicPartitionOffset(p0, offset: 50)), ContinuousClock.now < deadline {
                let batch = try await consumer.poll(timeout: .milliseconds(200))
                records += batch.records
                ends.formUnion(batch.endOfPartition)
            }
            #expect(records.count == 50 && records.allSatisfy { $0.partition == 0 }, "paused partition delivers nothing")
            #expect(ends.contains(TopicPartitionOffset(p0, offset: 50)), "EOF at the end offset")

            try consumer.resume([p1])
            let resumed = try await consume(consumer, until: .seconds(30)) { $0.count >= 50 }
            #expect(resumed.count == 50 && resumed.allSatisfy { $0.partition == 1 })

            try await consumer.seek([TopicPartitionOffset(p0, offset: 40)])
            let rewound = try await consume(consumer, until: .seconds(30)) { $0.count >= 10 }
            #expect(rewound.map(\.offset) == Array(40..<50) && rewound.allSatisfy { $0.partition == 0 })
            await consumer.close()
        }
    }
}
