import ALMAggregation
import ALMSnapshot
import ArgumentParser
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Summarise the latest snapshot: works, top works per category, rejected records.")

    @Option(help: ArgumentHelp("Where snapshots are.", valueName: "dir")) var snapshotDir: String = "snapshots"
    @Option(help: "How many works per category.") var top: Int = 10

    func run() throws {
        guard let (directory, manifest) = try SnapshotWriter(root: URL(fileURLWithPath: snapshotDir), retain: Int.max).latest() else {
            throw ValidationFailure("no snapshot in \(snapshotDir)")
        }
        let data = try Data(contentsOf: directory.appendingPathComponent(SnapshotWriter.jsonLinesFile))
        let works = try data.split(separator: UInt8(ascii: "\n")).map { try WorkAggregate(jsonLine: Array($0)) }
        print("snapshot \(directory.path)")
        print("works: \(manifest.works)  records processed: \(manifest.recordCounts["records_processed"] ?? 0)  "
              + "rejected to alm.dlq: \(manifest.recordCounts["records_rejected"] ?? 0) invalid, "
              + "\(manifest.recordCounts["records_late"] ?? 0) late")
        for category in Category.allCases {
            let ranked = works.filter { $0.category(category) > 0 }
                .sorted { ($0.category(category), $1.work) > ($1.category(category), $0.work) }
                .prefix(top)
            print("\ntop \(top) \(category.rawValue):")
            if ranked.isEmpty { print("  (none)") }
            for (rank, work) in ranked.enumerated() {
                print("  \(String(rank + 1).leftPadded(2)). \(String(work.category(category)).leftPadded(8))  \(work.work)")
            }
        }
    }
}
