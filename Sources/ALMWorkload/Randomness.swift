#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast generator whose whole state is one `UInt64`.
/// The workload draws every choice from one of these, in a fixed order, so a seed fixes every byte.
/// (No `SystemRandomNumberGenerator`, no Foundation, no clock.) Tests use it for seeded choices too.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix64(state)
    }

    /// Uniform in [0, 1), 53 bits.
    @inline(__always)
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in 0..<bound (Lemire's multiply-high; the bias, below 2^-32 for our bounds, does not matter here).
    @inline(__always)
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(truncatingIfNeeded: UInt64(bound).multipliedFullWidth(by: next()).high)
    }

    @inline(__always)
    mutating func inRange(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    @inline(__always)
    mutating func inRange(_ range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(below(Int(range.upperBound - range.lowerBound + 1)))
    }

    @inline(__always)
    mutating func chance(_ probability: Double) -> Bool {
        unit() < probability
    }

    @inline(__always)
    mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements[below(elements.count)]
    }
}

/// SplitMix64's output function: a bijective mixer of 64 bits.
@inline(__always)
func mix64(_ input: UInt64) -> UInt64 {
    var z = input
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// A stable hash of a few integers, for per-work and per-period properties that must come out the
/// same however often (and in whatever order) the generator asks: a work's citation rate, a month's
/// downloads, whether a month is restated.
@inline(__always)
func stableHash(_ a: UInt64, _ b: UInt64, _ c: UInt64 = 0, _ d: UInt64 = 0) -> UInt64 {
    mix64(mix64(mix64(mix64(a &+ 0x632B_E59B_D9B4_E019) ^ b) ^ (c &* 0x9E37_79B9_7F4A_7C15)) ^ d)
}

/// `stableHash` as a number in [0, 1).
@inline(__always)
func stableUnit(_ a: UInt64, _ b: UInt64, _ c: UInt64 = 0, _ d: UInt64 = 0) -> Double {
    Double(stableHash(a, b, c, d) >> 11) * 0x1.0p-53
}

/// Zipf's law over ranks 0..<count: P(rank r) ∝ 1 / (r + 1)^exponent. The cumulative distribution is
/// computed once; a draw is one binary search.
struct ZipfTable: Sendable {
    let cumulative: [Double]

    init(count: Int, exponent: Double) {
        precondition(count > 0)
        var cumulative = [Double](repeating: 0, count: count)
        var sum = 0.0
        for rank in 0..<count {
            sum += exponent == 0 ? 1 : 1 / pow(Double(rank + 1), exponent)
            cumulative[rank] = sum
        }
        for rank in 0..<count { cumulative[rank] /= sum }
        cumulative[count - 1] = 1
        self.cumulative = cumulative
    }

    /// The rank whose slice of [0, 1) holds `u`: the first r with cumulative[r] > u.
    func rank(at u: Double) -> Int {
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) >> 1
            if cumulative[middle] > u { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The probability of `rank`.
    func probability(ofRank rank: Int) -> Double {
        rank == 0 ? cumulative[0] : cumulative[rank] - cumulative[rank - 1]
    }
}
