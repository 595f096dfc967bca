import Kafka
import Synchronization

/// Produces a stream collector's batches in the background, one after another, so that reading the
/// stream is not held up while the broker answers. A server that drops slow readers (a WebSocket
/// server closes a connection whose reader stops answering its close or ping) would otherwise lose
/// frames whenever a produce waits for a slow broker.
///
/// A batch's `acknowledged` (saving the cursor) runs only after the broker acknowledged that batch and
/// every batch before it, so a saved cursor never runs ahead of the events sent. The reader waits only
/// when `limit` records are queued. A failed produce stops the delivery: later batches are not sent and
/// the reader's next `enqueue` throws the error.
final class OrderedDelivery: Sendable {
    struct Batch: Sendable {
        var records: [ProducerRecord]
        var acknowledged: @Sendable () throws -> Void
    }

    private struct State {
        var queued = 0
        var failure: (any Error)?
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let limit: Int
    private let state = Mutex(State())
    private let batches: AsyncStream<Batch>
    private let input: AsyncStream<Batch>.Continuation

    private init(limit: Int) {
        self.limit = limit
        (batches, input) = AsyncStream.makeStream(of: Batch.self)
    }

    /// Runs `body` with a delivery of its own; when `body` returns or throws, the batches it queued
    /// are still delivered before this returns. A delivery failure wins over `body`'s error: the
    /// callers treat broker errors as fatal and a stream's errors as a reason to reconnect.
    static func run<T>(producer: KafkaProducer, limit: Int = 50_000,
                       _ body: (OrderedDelivery) async throws -> T) async throws -> T {
        let delivery = OrderedDelivery(limit: limit)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await delivery.deliver(with: producer) }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(delivery))
            } catch {
                result = .failure(error)
            }
            delivery.input.finish()
            try await group.waitForAll()
            return try result.get()
        }
    }

    /// Queues `records`; `acknowledged` runs once they and everything queued before are acknowledged.
    /// Waits while `limit` records are queued; throws the delivery's failure, if any.
    func enqueue(_ records: [ProducerRecord], acknowledged: @escaping @Sendable () throws -> Void) async throws {
        let weight = max(1, records.count)
        while true {
            let admitted: Bool = try state.withLock { state in
                if let failure = state.failure { throw failure }
                guard state.queued == 0 || state.queued + weight <= limit else { return false }
                state.queued += weight
                return true
            }
            if admitted { break }
            await withCheckedContinuation { continuation in
                let mustWait = state.withLock { state in
                    let full = state.failure == nil && state.queued != 0 && state.queued + weight > limit
                    if full { state.waiting.append(continuation) }
                    return full
                }
                if !mustWait { continuation.resume() }
            }
        }
        input.yield(Batch(records: records, acknowledged: acknowledged))
    }

    private func deliver(with producer: KafkaProducer) async throws {
        for await batch in batches {
            do {
                if !batch.records.isEmpty { try await producer.sendAll(batch.records) }
                try batch.acknowledged()
            } catch {
                wake { $0.failure = error }
                throw error
            }
            wake { $0.queued -= max(1, batch.records.count) }
        }
        // Only cancellation ends the stream while the reader may still queue: do not leave it waiting.
        wake { state in if state.failure == nil { state.failure = CancellationError() } }
    }

    private func wake(after change: (inout State) -> Void) {
        let waiting = state.withLock { state in
            change(&state)
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        waiting.forEach { $0.resume() }
    }
}
