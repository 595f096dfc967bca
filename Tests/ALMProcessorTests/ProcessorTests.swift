import ALMAggregation
import ALMProcessor
import ALMRuntime
import ALMState
import ALMTestSupport
import ALMWorkload
import DevBroker
import Foundation
import Kafka
import Testing

@Suite("alm process against the dev broker", .serialized, .timeLimit(.minutes(5)))
struct ProcessorTests {
    @Test("malformed records land in alm.dlq with a reason; every valid record is counted exactly once")
    func deadLettersAndCounts() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                let records = try await broker.produce(WorkloadSpec(records: 20_000, works: 500, seed: 11, malformedRate: 0.01))
                // Two kinds the decoder accepts but the processor must not: wrong topic, wrong key.
                let valid = records.first { !$0.isMalformed }!
                try await broker.produce([
                    ProducerRecord(topic: "alm.raw.reddit", key: valid.key, value: valid.value),
                    ProducerRecord(topic: valid.topic, key: Array("10.9999/elsewhere".utf8), value: valid.value),
                ])
                let summary = try await Processor(settings: broker.processorSettings(state: dir), logger: testLogger).run()

                let malformed = records.filter(\.isMalformed).count
                let expected = try await broker.expected()
                #expect(malformed > 100)
                #expect(expected.late > 10, "the workload delivers a few access logs days late")
                #expect(summary.recordsRejected == malformed + 2)
                #expect(summary.recordsLate == expected.late)
                #expect(summary.recordsProcessed == records.count - malformed - expected.late)

                let dlq = try await broker.readAll(topic: "alm.dlq", partitions: 1)
                #expect(dlq.count == malformed + 2 + expected.late)
                for letter in dlq {
                    #expect(letter.header("alm.error.code")?.stringValue?.isEmpty == false)
                    #expect(letter.header("alm.error.message")?.stringValue?.isEmpty == false)
                    #expect(letter.header("alm.source.topic")?.stringValue?.hasPrefix("alm.raw.") == true)
                    #expect(letter.header("alm.source.offset").flatMap { $0.stringValue }.flatMap { Int64($0) } != nil)
                }
                let codes: Set<String> = Set(dlq.compactMap { $0.header("alm.error.code")?.stringValue })
                #expect(codes.isSuperset(of: ["source_mismatch", "key_mismatch", "late"]))
                for letter in dlq where letter.header("alm.error.code")?.stringValue == "late" {
                    #expect(letter.topic == "alm.dlq" && letter.header("alm.source.topic")?.stringValue == "alm.raw.accesslog")
                    #expect(letter.header("alm.error.field")?.stringValue == "occurred_at")
                }
                let rejectedValues = Set(dlq.map(\.value))
                #expect(records.filter(\.isMalformed).allSatisfy { rejectedValues.contains($0.value) }, "values unchanged")

                #expect(try snapshotText(dir) == expected.text, "the state holds exactly the valid records' numbers")

                let metrics = try await broker.readAll(topic: "alm.metrics", partitions: 12)
                var latest: [String: [UInt8]] = [:]
                for record in metrics { latest[record.keyString!] = record.value }
                #expect(latest.count == expected.text.split(separator: "\n").count, "one aggregate per work")
                let stateLines = Set(try snapshotText(dir).split(separator: "\n").map(String.init))
                #expect(Set(latest.values.map { String(decoding: $0, as: UTF8.self) }) == stateLines,
                        "the latest alm.metrics record of each work is its final aggregate")
            }
        }
    }

    @Test("a second run resumes from the stored offsets; a lost partition store is rebuilt from the earliest offsets")
    func resumeAndRebuild() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                _ = try await broker.produce(WorkloadSpec(records: 5_000, works: 200, seed: 3))
                let first = try await Processor(settings: broker.processorSettings(state: dir), logger: testLogger).run()
                #expect(first.recordsProcessed + first.recordsRejected + first.recordsLate == 5_000)

                _ = try await broker.produce(WorkloadSpec(records: 1_000, works: 200, seed: 4))
                let second = try await Processor(settings: broker.processorSettings(state: dir), logger: testLogger).run()
                #expect(second.recordsProcessed + second.recordsRejected + second.recordsLate == 1_000, "only the new records")
                #expect(try await snapshotText(dir) == broker.expectedText())

                // Corrupt one partition's database: it is rebuilt, and the numbers are the same.
                let victim = dir.appendingPathComponent("partition-0003.sqlite")
                try Data("not a database".utf8).write(to: victim)
                try? FileManager.default.removeItem(at: URL(fileURLWithPath: victim.path + "-wal"))
                let third = try await Processor(settings: broker.processorSettings(state: dir), logger: testLogger).run()
                #expect(third.recordsProcessed + third.recordsRejected > 0, "partition 3 was replayed")
                #expect(try await snapshotText(dir) == broker.expectedText())
            }
        }
    }

    @Test("two instances in one group split the partitions and give the same numbers as one")
    func twoInstances() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                _ = try await broker.produce(WorkloadSpec(records: 30_000, works: 2_000, seed: 5))
                let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
                async let first = Processor(settings: broker.processorSettings(state: a, group: "pair"), logger: testLogger).run()
                try await Task.sleep(for: .milliseconds(500))
                async let second = Processor(settings: broker.processorSettings(state: b, group: "pair"), logger: testLogger).run()
                let (summaryA, summaryB) = try await (first, second)
                #expect(!summaryA.partitions.isEmpty || !summaryB.partitions.isEmpty)

                // Whoever finished last owns every partition it was handed, in its own state directory;
                // the union of the newest state per partition is the full picture.
                let merged = try mergedSnapshot([a, b])
                #expect(try await merged == broker.expectedText())
            }
        }
    }

    @Test("replay from the earliest offsets equals the live state, byte for byte")
    func replayEqualsLive() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                _ = try await broker.produce(WorkloadSpec(records: 10_000, works: 800, seed: 9))
                let live = dir.appendingPathComponent("live"), replay = dir.appendingPathComponent("replay")
                _ = try await Processor(settings: broker.processorSettings(state: live), logger: testLogger).run()
                var settings = broker.processorSettings(state: replay)
                settings.assignAllPartitions = true
                _ = try await Processor(settings: settings, logger: testLogger).run()
                #expect(try snapshotText(replay) == snapshotText(live))
                #expect(try await snapshotText(live) == broker.expectedText())
            }
        }
    }
}

/// For each partition, the store that has read furthest (the most recent owner), merged into one text.
func mergedSnapshot(_ directories: [URL]) throws -> String {
    var best: [String: (progress: Int64, lines: [String])] = [:]
    for directory in directories where FileManager.default.fileExists(atPath: directory.path) {
        for partition in try ALMState.PartitionStore.partitions(in: directory) {
            let store = try ALMState.PartitionStore(directory: directory, partition: partition, readOnly: true)
            defer { store.close() }
            let progress = try store.offsets().values.reduce(0, +)
            var lines: [String] = []
            try store.forEachAggregate { _, line in lines.append(String(decoding: line, as: UTF8.self)) }
            if progress >= best[String(partition)]?.progress ?? -1 { best[String(partition)] = (progress, lines) }
        }
    }
    return best.values.flatMap(\.lines).sorted { utf8Less($0, $1) }.joined(separator: "\n")
}
