import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// `POST /admin/snapshot`, `POST /admin/replay` and `GET /admin/jobs/{id}`, behind the admin key.
public struct AdminRoutes: Sendable {
    let keyDigest: String?
    let actions: AdminActions
    let jobs: JobBoard

    func register(on group: RouterGroup<ServeContext>) {
        group.add(middleware: AdminKeyMiddleware(keyDigest: keyDigest))
        group.post("snapshot") { _, _ in
            let id = try await actions.snapshot()
            return try WorkRoutes.json(["snapshot": id], status: .created)
        }
        group.post("replay") { request, _ in
            let asOf = request.uri.queryParameters["as_of"].map(String.init)
            let replay = actions.replay
            let job = jobs.start(kind: "replay") { try await replay(asOf) }
            return try WorkRoutes.json(job, status: .accepted)
        }
        group.get("jobs/:id") { _, context in
            guard let id = context.parameters.get("id"), let job = jobs.job(id) else {
                throw ServeError(.notFound, "no such job")
            }
            return try WorkRoutes.json(job)
        }
    }

    /// Hex SHA-256 of a key, as `serve.admin_key_sha256` stores it (`alm serve --hash-key`).
    public static func digest(of key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// 401 unless the request carries the admin key (`Authorization: Bearer KEY` or `X-API-Key: KEY`).
struct AdminKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keyDigest: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let keyDigest else {
            throw ServeError(.unauthorized, "admin endpoints are disabled: serve.admin_key_sha256 is not configured")
        }
        let authorization = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let key = authorization ?? request.headers[HTTPField.Name("X-API-Key")!],
              Self.equalInConstantTime(AdminRoutes.digest(of: key), keyDigest)
        else {
            var error = ServeError(.unauthorized, "admin endpoints need the API key (Authorization: Bearer KEY)")
            error.headers[.wwwAuthenticate] = "Bearer realm=\"alm admin\""
            throw error
        }
        return try await next(request, context)
    }

    static func equalInConstantTime(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Long admin operations run in the background; their state is kept for `GET /admin/jobs/{id}`.
public final class JobBoard: Sendable {
    public struct Job: Encodable, Sendable {
        public var id: String
        public var kind: String
        public var status: String
        public var startedAt: String
        public var finishedAt: String?
        public var output: String?

        enum CodingKeys: String, CodingKey {
            case id, kind, status, output
            case startedAt = "started_at", finishedAt = "finished_at"
        }
    }

    private let jobs = Mutex<[String: Job]>([:])

    public init() {}

    func start(kind: String, _ work: @escaping @Sendable () async throws -> String) -> Job {
        let job = Job(id: UUID().uuidString.lowercased(), kind: kind, status: "running", startedAt: ContextDocument.rfc3339(Date()))
        jobs.withLock { $0[job.id] = job }
        Task {
            let (status, output): (String, String)
            do { (status, output) = ("succeeded", try await work()) } catch { (status, output) = ("failed", "\(error)") }
            jobs.withLock {
                $0[job.id]?.status = status
                $0[job.id]?.output = output
                $0[job.id]?.finishedAt = ContextDocument.rfc3339(Date())
            }
        }
        return job
    }

    func job(_ id: String) -> Job? { jobs.withLock { $0[id] } }
}
