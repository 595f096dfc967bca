/// Which librdkafka each distribution release ships (its `librdkafka-dev` / `librdkafka1` package).
/// alm needs >= 2.1.2: 2.0.2's tagged-field parser is off by one and cannot read the ApiVersions reply
/// of a KRaft broker (shared/design.md, "Running it"). Add a release here before basing an image on it.
enum Distributions {
    static let minimumLibrdkafka = "2.1.2"

    static let librdkafkaByRelease: [String: String] = [
        "bookworm": "2.0.2",   // Debian 12: too old
        "trixie": "2.8.0",     // Debian 13
        "jammy": "1.8.0",      // Ubuntu 22.04: too old
        "noble": "2.3.0",      // Ubuntu 24.04
    ]

    /// Version numbers that name the same releases in `ubuntu:` and `debian:` tags.
    static let releaseByVersion: [String: String] = [
        "24.04": "noble", "22.04": "jammy", "12": "bookworm", "13": "trixie",
    ]

    /// The release an image is based on, read from its tag: `ubuntu:24.04`, `ubuntu:noble`,
    /// `debian:bookworm-slim`, `debian:13`, `swift:6.3-noble`, `swift:6.3-noble-slim`, ...
    /// nil when the tag names no release this table knows (e.g. `swift:6.3`, whose release is implicit).
    static func release(ofImage reference: String) -> String? {
        let image = ImageReference(reference)
        guard let tag = image.tag?.lowercased() else { return nil }
        let parts = tag.split(separator: "-").map(String.init)
        for part in parts where librdkafkaByRelease[part] != nil { return part }
        guard image.repository == "ubuntu" || image.repository == "debian", let first = parts.first else { return nil }
        if let release = releaseByVersion[first] { return release }
        // debian:12.8 → 12
        if image.repository == "debian", let major = first.split(separator: ".").first { return releaseByVersion[String(major)] }
        return nil
    }

    /// Compares dotted version numbers numerically ("2.10.0" > "2.3.0").
    static func isAtLeast(_ version: String, _ minimum: String) -> Bool {
        let lhs = version.split(separator: ".").map { Int($0) ?? 0 }
        let rhs = minimum.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(lhs.count, rhs.count) {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            if left != right { return left > right }
        }
        return true
    }
}
