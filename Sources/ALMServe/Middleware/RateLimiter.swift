import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A token bucket per client address: `perMinute` requests in a burst, refilled evenly over a minute.
/// Over the limit: 429 with `Retry-After`. Addresses idle long enough to be full again are forgotten,
/// so memory is bounded by the clients active in the last minute.
public final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    public let perMinute: Int
    private let buckets = Mutex<[String: Bucket]>([:])
    private let clock = ContinuousClock()

    public init(perMinute: Int) {
        self.perMinute = perMinute
    }

    /// Takes a token for `client`; returns the seconds to wait when there is none.
    public func take(client: String) -> Int? {
        let capacity = Double(perMinute)
        let refillPerSecond = capacity / 60
        let now = clock.now
        return buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: capacity, updated: now)
            let elapsed = Double((now - bucket.updated).components.seconds) + Double((now - bucket.updated).components.attoseconds) / 1e18
            bucket.tokens = min(capacity, bucket.tokens + elapsed * refillPerSecond)
            bucket.updated = now
            if buckets.count > 10_000 { Self.forgetFull(&buckets, now: now, capacity: capacity, refillPerSecond: refillPerSecond) }
            guard bucket.tokens >= 1 else {
                buckets[client] = bucket
                return Int(((1 - bucket.tokens) / refillPerSecond).rounded(.up))
            }
            bucket.tokens -= 1
            buckets[client] = bucket
            return nil
        }
    }

    private static func forgetFull(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant, capacity: Double,
                                   refillPerSecond: Double) {
        let fullAfter = Duration.seconds(capacity / refillPerSecond)
        buckets = buckets.filter { now - $0.value.updated < fullAfter }
    }
}

/// Applies a `RateLimiter` to the routes behind it, keyed by the client's address.
struct RateLimitMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = context.remoteAddress?.ipAddress ?? "unknown"
        if let wait = limiter.take(client: client) {
            var error = ServeError(.tooManyRequests, "rate limit of \(limiter.perMinute) requests per minute exceeded; retry in \(wait) s")
            error.headers[.retryAfter] = String(wait)
            throw error
        }
        return try await next(request, context)
    }
}
