import ALMAggregation
import ALMCore
import ALMServe
import ALMSnapshot
import ALMProcessor
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Hummingbird
import Synchronization

/// A snapshot of three works on disk, loaded into an index, and the admin calls the routes made.
struct ServeFixture {
    static let cited = WorkAggregate(
        work: "10.1234/abc",
        sources: ["crossref": ["cites": 12], "wikipedia": ["references": 3], "bluesky": ["discusses": 5], "pmc": ["views": 40]],
        categories: [.cited: 12, .discussed: 8, .viewed: 40],
        byMonth: ["2026-01": [.viewed: 25, .discussed: 3], "2026-03": [.viewed: 15, .discussed: 5, .cited: 12]],
        firstSeen: try! Timestamp(parsing: "2026-01-04T10:00:00Z"), lastSeen: try! Timestamp(parsing: "2026-03-20T08:30:00Z"))
    static let read = WorkAggregate(
        work: "10.5555/xyz.1", sources: ["pmc": ["views": 7]], categories: [.viewed: 7], byMonth: ["2026-02": [.viewed: 7]])
    /// A DOI with characters that must be escaped in a URL, HTML and XML.
    static let awkward = WorkAggregate(
        work: "10.1000/a<b>&\"c#d?e", sources: ["hypothesis": ["annotates": 2]], categories: [.discussed: 2],
        byMonth: ["2026-02": [.discussed: 2]])

    /// Four Bluesky posts, all by one author (known from their at:// subjects).
    static let social = WorkAggregate(
        work: "10.7777/social", sources: ["bluesky": ["discusses": 4]], categories: [.discussed: 4],
        byMonth: ["2026-02": [.discussed: 4]], authors: ["bluesky": 1])

    let directory: URL
    let index = WorkIndex()
    let snapshotID: String
    let snapshots = Locked(0)
    let replays = Locked<[String?]>([])

    init(directory: URL) throws {
        self.directory = directory
        let written = try SnapshotWriter(root: directory.appendingPathComponent("snapshots"), retain: 3)
            .write([Self.cited, Self.read, Self.awkward, Self.social])
        snapshotID = written.manifest.id
        try index.loadLatestSnapshot(root: directory.appendingPathComponent("snapshots"))
    }

    static let adminKey = "correct horse battery staple"

    func settings(rateLimit: Int = 0, cors: [String] = []) -> ServeSettings {
        var settings = ServeSettings(snapshotDirectory: directory.appendingPathComponent("snapshots"))
        settings.adminKeySHA256 = AdminRoutes.digest(of: Self.adminKey)
        settings.rateLimitPerMinute = rateLimit
        settings.corsOrigins = cors
        return settings
    }

    func services(provenance: ProvenanceReader? = nil) -> ServeServices {
        ServeServices(
            index: index, provenance: provenance,
            admin: AdminActions(
                snapshot: { [snapshots] in
                    snapshots.withLock { $0 += 1 }
                    return "snapshot-\(snapshots.withLock { $0 })"
                },
                replay: { [replays] asOf in
                    replays.withLock { $0.append(asOf) }
                    return "replayed as of \(asOf ?? "now")"
                }))
    }

    func application(rateLimit: Int = 0, cors: [String] = [], provenance: ProvenanceReader? = nil) -> some ApplicationProtocol {
        Application(router: buildRouter(settings: settings(rateLimit: rateLimit, cors: cors), services: services(provenance: provenance)))
    }
}

func json(_ buffer: ByteBuffer) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(buffer: buffer))
    guard let dictionary = object as? [String: Any] else { throw FixtureError("not a JSON object: \(String(buffer: buffer))") }
    return dictionary
}

/// A value shared with the admin closures (a struct cannot hold a Mutex).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Parses `text` as XML; returns the parser's error, or nil when it is well-formed. Collects element names.
final class XMLCheck: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var attributes: [[String: String]] = []
    var text = ""

    static func parse(_ text: String) -> (error: Error?, check: XMLCheck) {
        let check = XMLCheck()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = check
        let ok = parser.parse()
        return (ok ? nil : parser.parserError ?? FixtureError("XML parse failed"), check)
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String]) {
        elements.append(name)
        self.attributes.append(attributes)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
}
