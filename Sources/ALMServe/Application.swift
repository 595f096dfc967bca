import ALMProcessor
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The request context of `alm serve`: Hummingbird's, plus the client address the rate limit keys on.
public struct ServeContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// The live parts the routes read: built by `alm serve` from Kafka and the state directory, or by
/// tests from whatever they need (a follower and a monitor are optional; without them the API
/// serves the snapshot alone).
public struct ServeServices: Sendable {
    public var index: WorkIndex
    public var follower: MetricsFollower?
    public var monitor: PipelineMonitor?
    public var provenance: ProvenanceReader?
    public var registry: PrometheusCollectorRegistry
    public var admin: AdminActions
    public var jobs = JobBoard()

    public init(index: WorkIndex, follower: MetricsFollower? = nil, monitor: PipelineMonitor? = nil,
                provenance: ProvenanceReader? = nil, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                admin: AdminActions) {
        self.index = index
        self.follower = follower
        self.monitor = monitor
        self.provenance = provenance
        self.registry = registry
        self.admin = admin
    }
}

/// Every route of `alm serve` (docs/api.md). Main and the tests both build the server with this.
public func buildRouter(settings: ServeSettings, services: ServeServices) -> Router<ServeContext> {
    let router = Router(context: ServeContext.self)
    router.add(middleware: RequestMetricsMiddleware(registry: services.registry))
    if !settings.corsOrigins.isEmpty {
        if settings.corsOrigins.contains("*") {
            router.add(middleware: CORSMiddleware(allowOrigin: .all, allowMethods: [.get, .post, .head, .options]))
        } else {
            // Hummingbird's list takes variadic origins only: drop any other Origin, then answer the rest by origin.
            router.add(middleware: AllowedOriginsMiddleware(origins: Set(settings.corsOrigins)))
            router.add(middleware: CORSMiddleware(allowOrigin: .originBased, allowMethods: [.get, .post, .head, .options]))
        }
    }
    let limiter = settings.rateLimitPerMinute > 0 ? RateLimiter(perMinute: settings.rateLimitPerMinute) : nil
    let routes = WorkRoutes(settings: settings, index: services.index, follower: services.follower, provenance: services.provenance)
    PipelineRoutes(settings: settings, index: services.index, follower: services.follower, monitor: services.monitor,
                   registry: services.registry).register(api: publicGroup(router, "api/v1", limiter), router: router)
    routes.register(on: publicGroup(router, "api/v1", limiter))
    PageRoutes(settings: settings, services: services, works: routes).register(on: publicGroup(router, "", limiter))
    AdminRoutes(keyDigest: settings.adminKeySHA256, actions: services.admin, jobs: services.jobs)
        .register(on: router.group("admin"))
    return router
}

/// Removes the `Origin` header of requests from origins not configured, so CORS does not answer them.
struct AllowedOriginsMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], !origins.contains(origin) else { return try await next(request, context) }
        var head = request.head
        head.headerFields[.origin] = nil
        return try await next(Request(head: head, body: request.body), context)
    }
}

/// The public routes share one limiter: a client's budget is the same whichever endpoints it calls.
private func publicGroup(_ router: Router<ServeContext>, _ path: RouterPath, _ limiter: RateLimiter?) -> RouterGroup<ServeContext> {
    let group = router.group(path)
    if let limiter { group.add(middleware: RateLimitMiddleware(limiter: limiter)) }
    return group
}

public func buildApplication(settings: ServeSettings, services: ServeServices, logger: Logger) -> some ApplicationProtocol {
    Application(
        router: buildRouter(settings: settings, services: services),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "alm"),
        logger: logger)
}
