import ALMCollectors
import ALMCore
import Testing

@Suite("collectors: rate limit, retries, circuit breaker, refresh schedule")
struct PolicyTests {
    @Test("a token bucket allows its burst, then one request per 1/rate seconds")
    func tokenBucket() {
        var bucket = TokenBucket(ratePerSecond: 2, capacity: 3)
        func take(_ now: Double) -> Double { bucket.take(now: now) }
        #expect([take(100), take(100), take(100)] == [0, 0, 0])
        #expect(take(100) == 0.5, "empty: wait half a second for the next token")
        #expect(take(100.5) == 0)
        #expect(take(100.5) == 0.5)
        #expect(take(200) == 0, "refilled")
        var granted = 0
        for tick in 0..<1000 where take(200 + Double(tick) * 0.01) == 0 { granted += 1 }
        #expect(granted == 21, "2 tokens left of the burst, then 2 per second over the 9.99 s that follow")
        bucket.drain(now: 300)
        #expect(take(300) == 0.5)
    }

    @Test("429 and 5xx, timeouts and refused connections are retried with capped exponential backoff; 4xx is not")
    func retries() {
        let policy = RetryPolicy(maxAttempts: 4, baseDelaySeconds: 1, maxDelaySeconds: 5)
        #expect(policy.decide(after: 1, .success, unit: 0.5) == .done)
        #expect(policy.decide(after: 1, .status(404, retryAfterSeconds: nil), unit: 0.5) == .giveUp)
        #expect(policy.decide(after: 1, .status(503, retryAfterSeconds: nil), unit: 0.999) == .retry(afterSeconds: 0.999))
        #expect(policy.decide(after: 3, .timeout, unit: 1) == .retry(afterSeconds: 4))
        #expect(policy.decide(after: 3, .connectionFailed, unit: 0.5) == .retry(afterSeconds: 2), "full jitter: a uniform share")
        #expect(policy.decide(after: 4, .status(500, retryAfterSeconds: nil), unit: 0.5) == .giveUp, "attempts exhausted")
        let capped = RetryPolicy(maxAttempts: 40, baseDelaySeconds: 1, maxDelaySeconds: 5)
        #expect(capped.decide(after: 30, .timeout, unit: 1) == .retry(afterSeconds: 5))
    }

    @Test("Retry-After wins over the backoff, in seconds or as an HTTP date; too long a wait gives up")
    func retryAfter() {
        let policy = RetryPolicy(maxAttempts: 3, maxRetryAfterSeconds: 600)
        #expect(policy.decide(after: 1, .status(429, retryAfterSeconds: 7), unit: 0) == .retry(afterSeconds: 7))
        #expect(policy.decide(after: 1, .status(429, retryAfterSeconds: 7200), unit: 0) == .giveUp)
        #expect(RetryPolicy.retryAfterSeconds("120", now: 0) == 120)
        let now = Double(daysSinceEpoch(year: 2015, month: 10, day: 21) * 86_400 + 7 * 3600 + 27 * 60)
        #expect(RetryPolicy.retryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == 60)
        #expect(RetryPolicy.retryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT", now: now + 3600) == 0, "a past date: now")
        #expect(RetryPolicy.retryAfterSeconds("soon", now: 0) == nil)
        #expect(RetryPolicy.retryAfterSeconds("-5", now: 0) == nil)
        #expect(RetryPolicy.retryAfterSeconds(nil, now: 0) == nil)
    }

    @Test("the breaker opens at the threshold within the window, pauses, probes once, and closes on success")
    func breaker() {
        var breaker = CircuitBreaker(failureThreshold: 3, windowSeconds: 100, pauseSeconds: 50)
        func fail(_ now: Double) -> Bool { breaker.recordFailure(now: now) }
        func allows(_ now: Double) -> Bool { breaker.allowsRequest(now: now) }
        #expect(!fail(0))
        #expect(!fail(10))
        #expect(!fail(150), "the first two fell out of the window")
        #expect(!fail(160))
        #expect(fail(170), "three within 100 s: open")
        #expect(breaker.state == .open(until: 220))
        #expect(!allows(219))
        #expect(allows(220) && breaker.state == .halfOpen)
        #expect(fail(221), "the probe failed: open again")
        #expect(breaker.state == .open(until: 271))
        #expect(allows(280))
        breaker.recordSuccess()
        #expect(breaker.state == .closed)
        #expect(!fail(281), "a fresh count after closing")
    }

    @Test("young works are refreshed daily, recent ones weekly, older or undated ones monthly, each spread by a stable jitter")
    func schedule() {
        let schedule = RefreshSchedule()
        let now = Double(daysSinceEpoch(year: 2026, month: 11, day: 30) * 86_400)
        #expect(schedule.interval(published: "2026-11-20", now: now) == 86_400)
        #expect(schedule.interval(published: "2026-03", now: now) == 7 * 86_400)
        #expect(schedule.interval(published: "2019", now: now) == 30 * 86_400)
        #expect(schedule.interval(published: nil, now: now) == 30 * 86_400)
        #expect(schedule.interval(published: "garbage", now: now) == 30 * 86_400)
        let dues = (1...200).map { schedule.nextDue(doi: "10.5555/alm.\($0)", published: "2026-11-20", fetchedAt: now) - now }
        #expect(dues.allSatisfy { (0.9 * 86_400...1.1 * 86_400).contains($0) })
        #expect(Set(dues.map { Int($0 / 3600) }).count > 3, "spread over several hours")
        #expect(schedule.nextDue(doi: "10.5555/alm.1", published: nil, fetchedAt: now)
                == schedule.nextDue(doi: "10.5555/alm.1", published: nil, fetchedAt: now), "stable")
    }
}
