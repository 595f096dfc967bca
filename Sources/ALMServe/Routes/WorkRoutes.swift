import ALMAggregation
import ALMCore
import ALMPresentation
import ALMProcessor
import Foundation
import Hummingbird

/// `/api/v1/works/{doi}`, `/api/v1/works/{doi}/events` and the batch `/api/v1/works`.
struct WorkRoutes: Sendable {
    let settings: ServeSettings
    let index: WorkIndex
    let follower: MetricsFollower?
    let provenance: ProvenanceReader?

    func register(on group: RouterGroup<ServeContext>) {
        group.get("works/**") { request, context in try await one(request, context: context) }
        group.get("works") { request, context in
            let ids = request.uri.queryParameters["ids"].map { String($0) } ?? ""
            guard !ids.isEmpty else { throw ServeError.badRequest("give ids=doi,doi,... (up to \(settings.maxBatch)) or POST {\"ids\": [...]}") }
            return try batch(ids.split(separator: ",", omittingEmptySubsequences: false).map(String.init), request: request)
        }
        group.post("works") { request, context in
            let body = try await request.body.collect(upTo: 1 << 20)
            struct Body: Decodable { var ids: [String] }
            let decoded: Body
            do {
                decoded = try JSONDecoder().decode(Body.self, from: Data(buffer: body))
            } catch {
                throw ServeError.badRequest("expected a JSON body {\"ids\": [\"doi\", ...]}")
            }
            return try batch(decoded.ids, request: request)
        }
    }

    /// The catch-all: a DOI contains slashes, so `/events` at the end is provenance.
    private func one(_ request: Request, context: ServeContext) async throws -> Response {
        var segments = context.parameters.getCatchAll().map(String.init)
        let wantsEvents = segments.count > 1 && segments.last == "events"
        if wantsEvents { segments.removeLast() }
        let work = try Self.workID(segments.joined(separator: "/"))
        if wantsEvents { return try events(work, request: request) }
        let aggregate = index.aggregate(work)
        let document = self.document(aggregate ?? WorkAggregate(work: work), found: aggregate != nil)
        return try Self.json(document, status: aggregate == nil ? .notFound : .ok)
    }

    func document(_ aggregate: WorkAggregate, found: Bool) -> WorkDocument {
        WorkDocument(aggregate, found: found, attention: settings.score(aggregate),
                     context: ContextDocument(aggregate: aggregate, index: index, live: follower != nil))
    }

    private func batch(_ ids: [String], request: Request) throws -> Response {
        guard ids.count <= settings.maxBatch else {
            throw ServeError(.contentTooLarge, "\(ids.count) ids; at most \(settings.maxBatch) per request")
        }
        var found: [WorkAggregate] = []
        var missing: [String] = []
        var invalid: [[String: String]] = []
        for id in ids {
            do {
                let work = try Self.workID(id)
                if let aggregate = index.aggregate(work) { found.append(aggregate) } else { missing.append(work) }
            } catch let error as ServeError {
                invalid.append(["id": id, "error": error.message])
            }
        }
        if request.headers[.accept]?.contains("text/csv") == true {
            return csv(found)
        }
        struct BatchDocument: Encodable {
            var works: [WorkDocument]
            var missing: [String]
            var invalid: [[String: String]]
        }
        return try Self.json(BatchDocument(works: found.map { document($0, found: true) }, missing: missing, invalid: invalid))
    }

    private func csv(_ works: [WorkAggregate]) -> Response {
        var text = "work," + Category.allCases.map(\.rawValue).joined(separator: ",") + ",attention_score,first_seen,last_seen\r\n"
        for aggregate in works {
            let fields = [aggregate.work] + Category.allCases.map { String(aggregate.category($0)) }
                + [Self.decimal(settings.score(aggregate).score), aggregate.firstSeen?.text ?? "", aggregate.lastSeen?.text ?? ""]
            text += fields.map(Self.csvField).joined(separator: ",") + "\r\n"
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    private func events(_ work: String, request: Request) throws -> Response {
        guard let provenance else {
            throw ServeError.unavailable("provenance needs the processor's state directory (alm serve --state-dir)")
        }
        let query = request.uri.queryParameters
        let limit = try query["limit"].map { text in
            guard let value = Int(text), (1...ProvenanceReader.maximumLimit).contains(value) else {
                throw ServeError.badRequest("limit must lie in 1...\(ProvenanceReader.maximumLimit)")
            }
            return value
        } ?? 100
        do {
            let page = try provenance.page(work: work, source: query["source"].map(String.init), metric: query["metric"].map(String.init),
                                           cursor: query["cursor"].map(String.init), limit: limit)
            return try Self.json(page, status: page.found ? .ok : .notFound)
        } catch let error as ProvenanceError {
            switch error.code {
            case _ where error.isClientError: throw ServeError.badRequest(error.message)
            case .unavailable: throw ServeError.unavailable(error.message)
            default: throw ServeError(.internalServerError, error.message)
            }
        }
    }

    /// A DOI in any form (URL, `doi:`, upper case, percent-encoded) → the normalised work id.
    static func workID(_ raw: String) throws -> String {
        guard let decoded = Markup.decodePathSegment(raw) else { throw ServeError.badRequest("malformed percent-encoding in \"\(raw.prefix(200))\"") }
        guard !decoded.isEmpty else { throw ServeError.badRequest("no DOI given") }
        do {
            return try DOI.normalize(decoded)
        } catch {
            throw ServeError.badRequest("\"\(decoded.prefix(200))\" is not a DOI: \(error)")
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONBody.encode(value))))
    }

    static func csvField(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func decimal(_ value: Double) -> String { String(format: "%.2f", value) }
}
