/// A token bucket: `ratePerSecond` requests on average, bursts of up to `capacity`. Time is passed in
/// (seconds on any monotonic clock), so the bucket is tested without sleeping.
public struct TokenBucket: Sendable {
    public let ratePerSecond: Double
    public let capacity: Double
    private var tokens: Double
    private var updatedAt: Double?

    public init(ratePerSecond: Double, capacity: Double) {
        precondition(ratePerSecond > 0 && capacity >= 1, "a bucket needs a positive rate and room for one request")
        self.ratePerSecond = ratePerSecond
        self.capacity = capacity
        self.tokens = capacity
    }

    /// Takes a token at `now` if there is one and returns 0, or returns how many seconds to wait for
    /// one (without taking it).
    public mutating func take(now: Double) -> Double {
        refill(now: now)
        if tokens >= 1 {
            tokens -= 1
            return 0
        }
        return (1 - tokens) / ratePerSecond
    }

    /// Empties the bucket, for a source that said to slow down (429 without Retry-After).
    public mutating func drain(now: Double) {
        refill(now: now)
        tokens = 0
    }

    private mutating func refill(now: Double) {
        if let updatedAt, now > updatedAt {
            tokens = min(capacity, tokens + (now - updatedAt) * ratePerSecond)
        }
        if updatedAt == nil || now > updatedAt! { updatedAt = now }
    }
}
