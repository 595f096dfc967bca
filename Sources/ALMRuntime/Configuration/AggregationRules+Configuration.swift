import ALMAggregation
import Foundation

extension ALMConfiguration {
    /// The counting rules this configuration asks for: category overrides and the robots list.
    public func aggregationRules() throws -> AggregationRules {
        var categories = CategoryMap()
        for (source, metrics) in processor.categoryOverrides {
            for (metric, name) in metrics {
                if name == "none" {
                    categories.overrides[source, default: [:]][metric] = .some(nil)
                } else if let category = Category(rawValue: name) {
                    categories.overrides[source, default: [:]][metric] = category
                } else {
                    throw ConfigurationError("processor.categories.\(source).\(metric): \"\(name)\" is not one of "
                        + (Category.allCases.map(\.rawValue) + ["none"]).joined(separator: ", "))
                }
            }
        }
        let candidates = processor.robotsFile.map { [$0] } ?? Self.robotsFileCandidates
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ConfigurationError("the COUNTER-Robots list was not found (looked for \(candidates.joined(separator: ", "))); "
                + "set processor.robots_file")
        }
        let robots: RobotMatcher
        do {
            robots = try RobotMatcher(listJSON: try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ConfigurationError("\(path): \(error)")
        }
        return AggregationRules(categories: categories, robots: robots,
                                usageLatenessMicroseconds: Int64(processor.usageLatenessSeconds) * 1_000_000)
    }
}
