/// Pauses a source after repeated failures, as Lagotto did (200 failures in 24 hours disabled a
/// source): `failureThreshold` failures within `windowSeconds` open the breaker for `pauseSeconds`;
/// then one request is let through (half-open): its success closes the breaker, its failure opens it
/// again. Time is passed in (seconds), so tests need no clock.
public struct CircuitBreaker: Sendable {
    public enum State: Sendable, Equatable {
        case closed
        case open(until: Double)
        case halfOpen
    }

    public let failureThreshold: Int
    public let windowSeconds: Double
    public let pauseSeconds: Double
    public private(set) var state: State = .closed
    /// Times of the recent failures, oldest first (at most `failureThreshold`).
    private var failures: [Double] = []

    public init(failureThreshold: Int = 200, windowSeconds: Double = 86_400, pauseSeconds: Double = 3_600) {
        precondition(failureThreshold >= 1 && windowSeconds > 0 && pauseSeconds > 0)
        self.failureThreshold = failureThreshold
        self.windowSeconds = windowSeconds
        self.pauseSeconds = pauseSeconds
    }

    /// Whether a request may go out at `now`; an open breaker whose pause is over becomes half-open.
    public mutating func allowsRequest(now: Double) -> Bool {
        switch state {
        case .closed, .halfOpen: return true
        case .open(let until):
            guard now >= until else { return false }
            state = .halfOpen
            return true
        }
    }

    public mutating func recordSuccess() {
        if state == .halfOpen { failures.removeAll() }
        state = .closed
    }

    /// Returns true when this failure opened the breaker (the moment to log and count it).
    @discardableResult
    public mutating func recordFailure(now: Double) -> Bool {
        if state == .halfOpen {
            state = .open(until: now + pauseSeconds)
            return true
        }
        failures.append(now)
        failures.removeAll { $0 <= now - windowSeconds }
        if failures.count > failureThreshold { failures.removeFirst(failures.count - failureThreshold) }
        guard case .closed = state, failures.count >= failureThreshold else { return false }
        state = .open(until: now + pauseSeconds)
        return true
    }
}
