import ALMProcessor
import ALMTestSupport
import ALMWorkload
import DevBroker
import Foundation
import Kafka
import Synchronization
import Testing

/// The broker stops answering (SIGSTOP) for a minute in the middle of processing, then comes back:
/// the processor rides it out with no manual step and ends with exact numbers.
@Suite("a frozen broker", .serialized, .timeLimit(.minutes(5)))
struct BrokerFreezeTests {
    @Test("broker frozen for 60 s mid-run, then resumed: processing completes by itself, the numbers are exact")
    func frozenBroker() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                let first = Workload(WorkloadSpec(records: 20_000, works: 600, seed: 51)).all()
                try await broker.produce(first.map { ProducerRecord(topic: $0.topic, key: $0.key, value: $0.value) })

                let stop = Atomic<Bool>(false)
                let processor = Processor(settings: broker.processorSettings(state: dir, group: "alm-freeze-test"), logger: testLogger)
                let run = Task { try await processor.run { stop.load(ordering: .relaxed) } }

                // Frozen while the processor is at work (joined, and part of the way through).
                while !processor.isReady { try await Task.sleep(for: .milliseconds(50)) }
                try await Task.sleep(for: .milliseconds(300))
                broker.pause()
                try await Task.sleep(for: .seconds(60))
                broker.resume()

                // More input after the freeze, then wait for the state to reach the exact numbers.
                let second = Workload(WorkloadSpec(records: 5_000, works: 600, seed: 52)).all()
                try await broker.produce(second.map { ProducerRecord(topic: $0.topic, key: $0.key, value: $0.value) })
                let expected = try await broker.expected().text
                var reached = false
                let deadline = ContinuousClock.now + .seconds(120)
                while !reached, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(500))
                    reached = (try? snapshotText(dir)) == expected
                }
                stop.store(true, ordering: .relaxed)
                _ = try await run.value
                #expect(reached, "the state never reached the numbers of the topics")
                #expect(try snapshotText(dir) == expected)
            }
        }
    }
}
