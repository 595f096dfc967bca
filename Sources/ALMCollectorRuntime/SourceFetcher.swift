import ALMCollectors
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// How one source is called: politeness, limits and patience. Credentials come from the environment
/// (`headers` is filled by the caller from variables named in the configuration) and are never logged.
public struct FetchSettings: Sendable {
    public var userAgent = "alm (https://github.com/alm-project/alm)"
    public var headers: [(String, String)] = []
    /// The whole request, and the connection alone.
    public var timeoutSeconds: Int64 = 30
    public var connectTimeoutSeconds: Int64 = 10
    public var maxBodyBytes = 32 * 1024 * 1024
    public var requestsPerSecond = 5.0
    public var burst = 5.0
    public var retry = RetryPolicy()
    public var breakerThreshold = 200
    public var breakerWindowSeconds = 86_400.0
    public var breakerPauseSeconds = 3_600.0

    public init(connectTimeoutSeconds: Int64 = 10) {
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }
}

extension HTTPClient {
    /// A client for collectors: redirects followed (APIs move), the connect timeout of `settings`.
    public static func forCollectors(_ settings: FetchSettings) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(connect: .seconds(settings.connectTimeoutSeconds), read: .seconds(settings.timeoutSeconds)))
        configuration.decompression = .enabled(limit: .ratio(50))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

/// Why a fetch gave up.
public enum FetchError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The source is paused by its circuit breaker until this many seconds from now.
    case paused(secondsLeft: Double)
    case status(Int, url: String)
    case timeout(url: String)
    case connection(url: String, reason: String)
    case bodyTooLarge(url: String)

    /// A bounded label for metrics and logs.
    public var errorClass: String {
        switch self {
        case .paused: "paused"
        case .status(let code, _): code == 429 ? "rate_limited" : code >= 500 ? "server" : "client"
        case .timeout: "timeout"
        case .connection: "connection"
        case .bodyTooLarge: "too_large"
        }
    }

    public var description: String {
        switch self {
        case .paused(let left): "paused by the circuit breaker for another \(Int(left.rounded(.up))) s"
        case .status(let code, let url): "HTTP \(code) from \(url)"
        case .timeout(let url): "timed out: \(url)"
        case .connection(let url, let reason): "cannot reach \(url): \(reason)"
        case .bodyTooLarge(let url): "response body too large: \(url)"
        }
    }
}

/// Calls one source: a token bucket spaces the requests, failures are retried as `RetryPolicy` says
/// (a `Retry-After` is obeyed), and a circuit breaker pauses the source after repeated failures.
public actor SourceFetcher {
    public let source: String
    private let settings: FetchSettings
    private let client: HTTPClient
    private let logger: Logger
    private let metrics: CollectorMetrics
    private var bucket: TokenBucket
    private var breaker: CircuitBreaker
    private let start = ContinuousClock.now
    private var random = SystemRandomNumberGenerator()
    public private(set) var requestsSent = 0
    public private(set) var breakerTrips = 0

    public init(source: String, settings: FetchSettings, client: HTTPClient, logger: Logger, metrics: CollectorMetrics? = nil) {
        self.source = source
        self.settings = settings
        self.client = client
        self.logger = logger
        self.metrics = metrics ?? CollectorMetrics(source: source)
        bucket = TokenBucket(ratePerSecond: settings.requestsPerSecond, capacity: settings.burst)
        breaker = CircuitBreaker(failureThreshold: settings.breakerThreshold, windowSeconds: settings.breakerWindowSeconds,
                                 pauseSeconds: settings.breakerPauseSeconds)
    }

    private var now: Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    public var isPaused: Bool {
        if case .open(let until) = breaker.state { return now < until }
        return false
    }

    /// The body of a successful (2xx) answer to GET `url`. `secretQuery` (credentials, `&key=value...`)
    /// is appended to the request only: errors and logs name `url` without it.
    public func fetch(_ url: String, secretQuery: String? = nil) async throws(FetchError) -> [UInt8] {
        var attempt = 0
        while true {
            attempt += 1
            guard breaker.allowsRequest(now: now) else {
                metrics.error("paused")
                if case .open(let until) = breaker.state { throw .paused(secondsLeft: until - now) }
                throw .paused(secondsLeft: 0)
            }
            await waitForToken()
            let (outcome, result) = await send(url, secretQuery: secretQuery)
            switch settings.retry.decide(after: attempt, outcome, unit: Double.random(in: 0..<1, using: &random)) {
            case .done:
                breaker.recordSuccess()
                metrics.paused.record(0)
                if case .success(let body) = result { return body }
                return []
            case .retry(let seconds):
                noteFailure(outcome, url: url)
                if case .status(429, nil) = outcome { bucket.drain(now: now) }
                logger.info("\(source): retrying in \(String(format: "%.1f", seconds)) s after \(describe(outcome))",
                            metadata: ["collector.source": "\(source)", "collector.attempt": "\(attempt)"])
                try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            case .giveUp:
                noteFailure(outcome, url: url)
                if case .failure(let error) = result { throw error }
                throw .connection(url: url, reason: "gave up")
            }
        }
    }

    private func waitForToken() async {
        while true {
            let wait = bucket.take(now: now)
            if wait <= 0 { return }
            try? await Task.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up))))
        }
    }

    private func noteFailure(_ outcome: RetryPolicy.Outcome, url: String) {
        switch outcome {
        case .success: break
        case .timeout: metrics.error("timeout")
        case .connectionFailed: metrics.error("connection")
        case .status(let code, _): metrics.error(code == 429 ? "rate_limited" : code >= 500 ? "server" : "client")
        }
        countTowardsBreaker(describe(outcome))
    }

    /// A 2xx answer whose body the caller could not read (garbage, an HTML error page, a changed
    /// format) is a failure of the source too: enough of them open the breaker, as errors would.
    public func noteUnreadableAnswer(_ reason: String) {
        countTowardsBreaker("an unreadable answer (\(reason))")
    }

    private func countTowardsBreaker(_ last: String) {
        guard breaker.recordFailure(now: now) else { return }
        breakerTrips += 1
        metrics.paused.record(1)
        let message = "\(source): paused for \(Int(settings.breakerPauseSeconds)) s after \(settings.breakerThreshold) failures "
            + "within \(Int(settings.breakerWindowSeconds)) s; last: \(last)"
        logger.error("\(message)", metadata: ["collector.source": "\(source)", "collector.breaker": "open"])
    }

    private func describe(_ outcome: RetryPolicy.Outcome) -> String {
        switch outcome {
        case .success: "success"
        case .status(let code, let after): "HTTP \(code)" + (after.map { " (Retry-After \($0) s)" } ?? "")
        case .timeout: "a timeout"
        case .connectionFailed: "a connection failure"
        }
    }

    private func send(_ url: String, secretQuery: String?) async -> (RetryPolicy.Outcome, Result<[UInt8], FetchError>) {
        var request = HTTPClientRequest(url: url + (secretQuery.map { (url.contains("?") ? "&" : "?") + $0 } ?? ""))
        request.method = .GET
        request.headers.add(name: "User-Agent", value: settings.userAgent)
        request.headers.add(name: "Accept", value: "application/json, application/xml;q=0.9, */*;q=0.8")
        for (name, value) in settings.headers { request.headers.add(name: name, value: value) }
        requestsSent += 1
        metrics.requests.increment()
        let started = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - started
            metrics.duration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(settings.timeoutSeconds))
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: settings.maxBodyBytes)
            } catch is NIOTooManyBytesError {
                return (.status(response.status.code.asInt, retryAfterSeconds: nil), .failure(.bodyTooLarge(url: url)))
            }
            let code = Int(response.status.code)
            guard (200...299).contains(code) else {
                let wallNow = Date().timeIntervalSince1970
                let retryAfter = RetryPolicy.retryAfterSeconds(response.headers.first(name: "Retry-After"), now: wallNow)
                return (.status(code, retryAfterSeconds: retryAfter), .failure(.status(code, url: url)))
            }
            return (.success, .success(Array(body.readableBytesView)))
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            return (.timeout, .failure(.timeout(url: url)))
        } catch {
            // The error's own text may quote the request URL: with credentials in it, say less.
            let reason = secretQuery == nil ? "\(error)" : "\(type(of: error))"
            return (.connectionFailed, .failure(.connection(url: url, reason: reason)))
        }
    }
}

private extension UInt {
    var asInt: Int { Int(self) }
}
