import ALMTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// One answer of the fixture server.
struct FixtureResponse: Sendable {
    var status = 200
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    /// A streamed body instead: each chunk written, then a pause.
    var chunks: [[UInt8]]? = nil
    var pauseBetweenChunks: Duration = .zero
    /// How long the server sits on the request before answering (a source that hangs).
    var delay: Duration = .zero

    static func file(_ path: String) -> FixtureResponse {
        FixtureResponse(body: Array((try? Data(contentsOf: sharedDirectory.appendingPathComponent("fixtures/" + path))) ?? Data()))
    }
}

/// A real HTTP server on 127.0.0.1 (Hummingbird on a free port) that answers every GET through
/// `respond` and remembers each request: path with query, User-Agent, and when it came.
final class FixtureServer: Sendable {
    struct Request: Sendable {
        let target: String
        let userAgent: String?
        let lastEventID: String?
        let at: ContinuousClock.Instant
    }

    final class RequestLog: Sendable {
        let entries = Mutex<[Request]>([])
    }

    let port: Int
    private let log: RequestLog

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { log.entries.withLock { $0 } }

    private init(port: Int, log: RequestLog) {
        self.port = port
        self.log = log
    }

    static func with<T>(respond: @escaping @Sendable (_ request: Request, _ count: Int) -> FixtureResponse,
                        _ body: (FixtureServer) async throws -> T) async throws -> T {
        let requests = RequestLog()
        let router = Router()
        router.get("**") { request, _ -> Response in
            let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            let lastEventID = HTTPField.Name("Last-Event-ID").flatMap { request.headers[$0] }
            let logged = Request(target: target, userAgent: request.headers[.userAgent], lastEventID: lastEventID, at: .now)
            let count = requests.entries.withLock { log in
                log.append(logged)
                return log.filter { $0.target == target }.count
            }
            let answer = respond(logged, count)
            if answer.delay > .zero { try? await Task.sleep(for: answer.delay) }
            var headers = HTTPFields()
            for (name, value) in answer.headers { if let field = HTTPField.Name(name) { headers[field] = value } }
            guard let chunks = answer.chunks else {
                return Response(status: .init(code: answer.status), headers: headers,
                                body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
            }
            let pause = answer.pauseBetweenChunks
            return Response(status: .init(code: answer.status), headers: headers, body: ResponseBody { writer in
                for chunk in chunks {
                    try await writer.write(ByteBuffer(bytes: chunk))
                    try await Task.sleep(for: pause)
                }
                try await writer.finish(nil)
            })
        }
        return try await withLocalApplication({ configuration, onRunning, logger in
            Application(router: router, configuration: configuration, onServerRunning: onRunning, logger: logger)
        }) { port in
            try await body(FixtureServer(port: port, log: requests))
        }
    }
}

/// Runs the application `make` builds on a free port of 127.0.0.1 while `body` runs, then stops it.
func withLocalApplication<App: ApplicationProtocol, T>(
    _ make: (_ configuration: ApplicationConfiguration, _ onRunning: @escaping @Sendable (any Channel) async -> Void, _ logger: Logger) -> App,
    _ body: (_ port: Int) async throws -> T
) async throws -> T {
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: "local-server")
    logger.logLevel = .critical  // its shutdown logs a CancellationError as an error
    let app = make(.init(address: .hostname("127.0.0.1", port: 0)), { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw FixtureServerError() }
        defer { group.cancelAll() }
        return try await body(port)
    }
}

struct FixtureServerError: Error {}
