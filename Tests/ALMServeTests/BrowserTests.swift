import ALMTestSupport
import DevBroker
import Foundation
import Testing

/// Headless Chromium (Debian's package; `make test` installs it) loads what `alm serve` renders.
/// Screenshots land in run/browser/ for people to look at.
@Suite("the dashboard and badge in a real browser", .serialized, .timeLimit(.minutes(5)))
struct BrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("dashboard, work page and badge render: title, top works with badges, charts, the badge's number",
          .enabled(if: FileManager.default.isExecutableFile(atPath: almBinary.path), "needs .build/debug/alm (make test builds it)"))
    func rendered() async throws {
        let chromium = try #require(Self.chromium, "no chromium: scripts/setup-browser installs it (make test runs it)")
        try await withTemporaryDirectory { directory in
            _ = try ServeFixture(directory: directory)
            let server = try ServerProcess(
                arguments: ["serve", "--no-kafka", "--port", "0", "--snapshot-dir", directory.appendingPathComponent("snapshots").path])
            defer { server.stop() }
            let base = try await server.baseURL()
            let screenshots = projectRoot.appendingPathComponent("run/browser")
            try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)

            let dashboard = try await Self.run(chromium, ["--dump-dom", base + "/"])
            #expect(dashboard.contains("<title>"))
            #expect(dashboard.range(of: #"<title>[^<]*[Mm]etrics[^<]*</title>"#, options: .regularExpression) != nil, "\(dashboard.prefix(300))")
            #expect(dashboard.contains(#"id="pipeline-health""#))
            #expect(dashboard.contains(#"id="top-works""#))
            // The cited work leads "discussed" (8) and carries its badge, scored 4.25 (5 on the badge: rounded up, as Altmetric's).
            #expect(dashboard.contains(#"data-score="4.25""#), "badge of 10.1234/abc")
            #expect(dashboard.contains(#"src="/badge/10.1234%2Fabc.svg""#))

            let page = try await Self.run(chromium, ["--dump-dom", base + "/works/10.1234%2Fabc"])
            #expect(page.contains("10.1234/abc"))
            for category in ["viewed", "discussed", "cited"] {
                #expect(page.contains(#"data-category="\#(category)""#), "a monthly chart of \(category)")
            }
            #expect(page.components(separatedBy: "<svg").count - 1 >= 3, "inline SVG charts")

            let badge = try await Self.run(chromium, ["--dump-dom", base + "/badge/10.1234%2Fabc.svg"])
            #expect(badge.contains("<svg"))
            #expect(badge.range(of: #">\s*5\s*</text>"#, options: .regularExpression) != nil, "the score in the middle: \(badge.prefix(600))")

            for (name, path, size) in [("dashboard", "/", "1280,1400"), ("work", "/works/10.1234%2Fabc", "1280,1600"),
                                       ("badge", "/badge/10.1234%2Fabc.svg", "240,240")] {
                let file = screenshots.appendingPathComponent("\(name).png")
                try? FileManager.default.removeItem(at: file)
                _ = try await Self.run(chromium, ["--screenshot=\(file.path)", "--window-size=\(size)", base + path])
                let png = try Data(contentsOf: file)
                #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(name).png is a PNG")
                #expect(png.count > 2_000, "\(name).png has content (\(png.count) bytes)")
            }
        }
    }

    /// Chromium headless with the flags a root user in a container needs; its standard output.
    static func run(_ chromium: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                             "--no-first-run", "--virtual-time-budget=3000",
                             "--user-data-dir=" + FileManager.default.temporaryDirectory.appendingPathComponent("alm-chromium-\(UUID())").path]
            + arguments
        process.standardError = FileHandle.nullDevice
        let (status, output) = try await process.runCollectingOutput()
        guard status == 0 else { throw FixtureError("chromium \(arguments.joined(separator: " ")) exited \(status)") }
        return output
    }
}
