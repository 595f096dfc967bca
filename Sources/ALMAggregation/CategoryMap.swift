/// Which category a (source, metric) counts towards: defaults by metric (design.md, after Lagotto),
/// overridable per source in configuration. A metric with no category is still counted per source.
public struct CategoryMap: Sendable, Equatable {
    public static let defaultByMetric: [String: Category] = [
        "views": .viewed, "downloads": .viewed,
        "readers": .saved, "bookmarks": .saved, "saves": .saved,
        "discusses": .discussed, "mentions": .discussed, "annotates": .discussed, "comments": .discussed,
        "likes": .discussed, "shares": .discussed, "references": .discussed, "posts": .discussed,
        "replies": .discussed, "reposts": .discussed,
        "cites": .cited,
        "recommends": .recommended,
    ]

    public var byMetric: [String: Category]
    /// source → metric → category, or nil to leave that metric uncategorised for that source.
    public var overrides: [String: [String: Category?]]

    public init(byMetric: [String: Category] = CategoryMap.defaultByMetric, overrides: [String: [String: Category?]] = [:]) {
        self.byMetric = byMetric
        self.overrides = overrides
    }

    public func category(source: String, metric: String) -> Category? {
        if let perSource = overrides[source], let override = perSource[metric] { return override }
        return byMetric[metric]
    }
}
