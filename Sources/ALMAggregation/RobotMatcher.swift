import Foundation
import Synchronization

/// The COUNTER-Robots list: a usage request whose user agent matches any pattern (case-insensitive)
/// is not counted. Matching happens once per distinct agent; the answers are cached.
public final class RobotMatcher: Sendable {
    private let expression: NSRegularExpression?
    private let cache = Mutex<[String: Bool]>([:])
    private static let cacheLimit = 100_000
    public let patternCount: Int

    /// - Parameter patterns: regular expressions (ICU syntax) as the list gives them.
    public init(patterns: [String]) throws {
        patternCount = patterns.count
        guard !patterns.isEmpty else {
            expression = nil
            return
        }
        // One alternation is one pass over the agent instead of one per pattern.
        let combined = patterns.map { "(?:\($0))" }.joined(separator: "|")
        expression = try NSRegularExpression(pattern: combined, options: [.caseInsensitive])
    }

    /// Reads COUNTER_Robots_list.json (an array of objects with a `pattern`; other keys are ignored).
    public convenience init(listJSON: Data) throws {
        guard let entries = try JSONSerialization.jsonObject(with: listJSON) as? [[String: Any]] else {
            throw RobotListError("the robots list is not a JSON array of objects")
        }
        let patterns = try entries.enumerated().map { index, entry in
            guard let pattern = entry["pattern"] as? String, !pattern.isEmpty else {
                throw RobotListError("entry \(index) of the robots list has no pattern")
            }
            return pattern
        }
        try self.init(patterns: patterns)
    }

    public static let none = try! RobotMatcher(patterns: [])

    public func isRobot(_ agent: String) -> Bool {
        guard let expression else { return false }
        if let known = cache.withLock({ $0[agent] }) { return known }
        let range = NSRange(agent.startIndex..<agent.endIndex, in: agent)
        let matched = expression.firstMatch(in: agent, options: [], range: range) != nil
        cache.withLock { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[agent] = matched
        }
        return matched
    }
}

public struct RobotListError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
