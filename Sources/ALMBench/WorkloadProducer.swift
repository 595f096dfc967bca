import ALMWorkload
import Foundation
import Kafka
import Synchronization

/// Produces a generated workload to its raw topics (`alm generate` and `alm bench`), streaming: a few
/// batches are generated ahead of the producer, never the whole workload (5 M records would be ~5 GB).
public enum WorkloadProducer {
    public struct Summary: Sendable {
        public var produced = 0
        public var malformed = 0
    }

    /// Every topic the workload uses must be one of `declared`; nothing is produced otherwise.
    public static func produce(_ spec: WorkloadSpec, declared: Set<String>, producer: KafkaProducer,
                               batchSize: Int = 10_000, batchesAhead: Int = 4) async throws -> Summary {
        let missing = Workload.sources.map { "alm.raw." + $0 }.filter { !declared.contains($0) }
        if let first = missing.first {
            throw BenchError("the workload uses \(first), which topics.yaml does not declare")
        }
        let (batches, continuation) = AsyncThrowingStream<(records: [ProducerRecord], malformed: Int), any Error>.makeStream()
        let room = DispatchSemaphore(value: batchesAhead)
        let abandoned = Atomic<Bool>(false)
        // The generator calls back synchronously: it runs on a thread of its own and waits there for room.
        Thread.detachNewThread {
            var batch: [ProducerRecord] = [], malformed = 0
            batch.reserveCapacity(batchSize)
            func hand(_ records: [ProducerRecord], _ malformed: Int) throws {
                room.wait()
                if abandoned.load(ordering: .acquiring) { throw CancellationError() }
                continuation.yield((records, malformed))
            }
            do {
                try Workload(spec).generate { record in
                    if record.isMalformed { malformed += 1 }
                    batch.append(ProducerRecord(topic: record.topic, key: record.key, value: record.value))
                    if batch.count == batchSize {
                        try hand(batch, malformed)
                        batch.removeAll(keepingCapacity: true)
                        malformed = 0
                    }
                }
                if !batch.isEmpty { try hand(batch, malformed) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        defer {
            // On an error here, free the generator if it waits for room.
            abandoned.store(true, ordering: .releasing)
            for _ in 0...batchesAhead { room.signal() }
        }
        var summary = Summary()
        for try await batch in batches {
            try await producer.sendAll(batch.records)
            room.signal()
            summary.produced += batch.records.count
            summary.malformed += batch.malformed
        }
        return summary
    }
}
