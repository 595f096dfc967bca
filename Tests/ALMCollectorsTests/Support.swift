import ALMCollectors
import ALMCore
import Foundation
import Testing

/// `../shared` beside the repository, or `ALM_SHARED`.
let sharedDirectory: URL = {
    if let path = ProcessInfo.processInfo.environment["ALM_SHARED"] { return URL(fileURLWithPath: path) }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.deletingLastPathComponent().appendingPathComponent("shared")
}()

func fixture(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: sharedDirectory.appendingPathComponent("fixtures").appendingPathComponent(path)))
}

let observed = try! Timestamp(parsing: "2026-11-30T12:00:00Z")

func context(_ doi: String?) -> ResponseContext {
    ResponseContext(work: doi.map { WorkIdentifiers(doi: try! DOI.normalize($0)) }, observedAt: observed)
}

func parse(_ parser: any ResponseParser, _ path: String, work: String?) throws -> [RawEvent] {
    try parser.events(from: try fixture(path), context: context(work))
}

/// The error a parser throws for `body`, or nil.
func parseError(_ parser: any ResponseParser, _ body: String, work: String? = "10.1/x") -> CollectorError? {
    do {
        _ = try parser.events(from: Array(body.utf8), context: context(work))
        return nil
    } catch {
        return error
    }
}

func totals(_ events: [RawEvent]) -> [String: UInt64] {
    Dictionary(events.filter { $0.kind == .total }.map { ($0.metric, $0.value) }, uniquingKeysWith: { a, _ in a })
}
