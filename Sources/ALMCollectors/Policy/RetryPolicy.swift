import ALMCore
import Foundation

/// When to try a failed request again: timeouts, connection failures, 429 and 5xx are retried with
/// exponential backoff and full jitter (AWS's "full jitter": a uniform draw below the capped
/// exponential), a source's `Retry-After` wins over the backoff, and anything else fails at once.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseDelaySeconds: Double
    public var maxDelaySeconds: Double
    /// A `Retry-After` longer than this is not waited for: the attempt fails (and counts towards the breaker).
    public var maxRetryAfterSeconds: Double

    public init(maxAttempts: Int = 5, baseDelaySeconds: Double = 1, maxDelaySeconds: Double = 60, maxRetryAfterSeconds: Double = 3600) {
        self.maxAttempts = maxAttempts
        self.baseDelaySeconds = baseDelaySeconds
        self.maxDelaySeconds = maxDelaySeconds
        self.maxRetryAfterSeconds = maxRetryAfterSeconds
    }

    public enum Outcome: Sendable, Equatable {
        case success
        /// The status code of an HTTP answer that is not a success.
        case status(Int, retryAfterSeconds: Double?)
        case timeout
        case connectionFailed
    }

    public enum Decision: Sendable, Equatable {
        case done
        case retry(afterSeconds: Double)
        case giveUp
    }

    /// What to do after attempt number `attempt` (1-based) ended with `outcome`; `unit` is a uniform
    /// draw in 0..<1 for the jitter.
    public func decide(after attempt: Int, _ outcome: Outcome, unit: Double) -> Decision {
        let retryAfter: Double?
        switch outcome {
        case .success: return .done
        case .timeout, .connectionFailed: retryAfter = nil
        case .status(let code, let after):
            guard code == 429 || (500...599).contains(code) else { return .giveUp }
            retryAfter = after
        }
        guard attempt < maxAttempts else { return .giveUp }
        if let retryAfter {
            return retryAfter <= maxRetryAfterSeconds ? .retry(afterSeconds: max(0, retryAfter)) : .giveUp
        }
        let exponential = min(maxDelaySeconds, baseDelaySeconds * Double(1 << min(attempt - 1, 30)))
        return .retry(afterSeconds: exponential * min(max(unit, 0), 1))
    }

    /// `Retry-After` as seconds from `now` (seconds since the epoch): delta-seconds, or an HTTP date
    /// (IMF-fixdate, e.g. `Wed, 21 Oct 2015 07:28:00 GMT`). nil when absent or unreadable.
    public static func retryAfterSeconds(_ header: String?, now: Double) -> Double? {
        guard let value = header?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0, value.allSatisfy({ $0.isNumber || $0 == "." }) { return seconds }
        guard let date = imfFixdate(value) else { return nil }
        return max(0, date - now)
    }

    private static func imfFixdate(_ text: String) -> Double? {
        // "Wed, 21 Oct 2015 07:28:00 GMT"
        let parts = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let month = months.firstIndex(of: String(parts[2])),
              let year = Int(parts[3]) else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3, (1...31).contains(day), (0...23).contains(clock[0]), (0...59).contains(clock[1]), (0...60).contains(clock[2])
        else { return nil }
        let days = daysSinceEpoch(year: year, month: month + 1, day: day)
        return Double(days * 86_400 + clock[0] * 3600 + clock[1] * 60 + clock[2])
    }
}
