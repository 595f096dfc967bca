import AsyncHTTPClient
import Kafka

/// Runs `body`, then closes the producer (waiting for its queue) and shuts the HTTP client down; when
/// `body` throws, gives the producer five seconds and rethrows.
func closing<T>(_ producer: KafkaProducer, _ client: HTTPClient? = nil, _ body: () async throws -> T) async throws -> T {
    let result: T
    do {
        result = try await body()
    } catch {
        try? await producer.close(timeout: .seconds(5))
        try? await client?.shutdown()
        throw error
    }
    try await producer.close()
    try await client?.shutdown()
    return result
}
