import ALMAggregation
import ALMCore
import ALMPresentation
import Crypto
import Foundation
import Hummingbird

/// The human side: the dashboard `/`, a page per work `/works/{doi}`, and the badge `/badge/{doi}.svg`.
struct PageRoutes: Sendable {
    let settings: ServeSettings
    let services: ServeServices
    let works: WorkRoutes

    func register(on group: RouterGroup<ServeContext>) {
        group.get("/") { _, _ in Self.html(DashboardPage.html(dashboardModel())) }
        group.get("works/**") { _, context in
            let work = try WorkRoutes.workID(context.parameters.getCatchAll().joined(separator: "/"))
            let aggregate = services.index.aggregate(work)
            let model = WorkPageModel(
                aggregate: aggregate ?? WorkAggregate(work: work), score: settings.score(aggregate ?? WorkAggregate(work: work)),
                dataSources: (aggregate?.sources.keys.sorted() ?? []).map {
                    WorkPageModel.DataSource(source: $0, from: aggregate?.firstSeen, until: aggregate?.lastSeen)
                },
                asOf: asOf(), snapshotID: services.index.snapshot?.id)
            return Self.html(WorkPage.html(model), status: aggregate == nil ? .notFound : .ok)
        }
        group.get("badge/**") { request, context in
            var segments = context.parameters.getCatchAll().map(String.init)
            guard let last = segments.last, last.hasSuffix(".svg") else { throw ServeError(.notFound, "a badge is /badge/{doi}.svg") }
            segments[segments.count - 1] = String(last.dropLast(4))
            let work = try WorkRoutes.workID(segments.joined(separator: "/"))
            let aggregate = services.index.aggregate(work) ?? WorkAggregate(work: work)
            let svg = BadgeSVG.svg(work: work, categories: aggregate.categories,
                                   score: settings.score(aggregate).displayScore)
            return Self.cached(svg, contentType: "image/svg+xml; charset=utf-8", request: request)
        }
    }

    func dashboardModel() -> DashboardModel {
        var topWorks: [Category: [DashboardModel.TopWork]] = [:]
        for category in Category.allCases {
            topWorks[category] = services.index.top(category, limit: 10).map {
                DashboardModel.TopWork(work: $0.work, value: $0.category(category), score: settings.score($0).score)
            }
        }
        let health = services.monitor?.sources() ?? []
        let sources = health.map { source in
            DashboardModel.SourceHealth(
                source: source.source, eventsLast24Hours: UInt64(source.eventsLast24h),
                eventsPerMinute: services.monitor.map { Double($0.eventsPerMinute(source: source.source, minutes: 10).reduce(0, +)) / 10 },
                lastEvent: source.lastEventAt.flatMap(Self.timestamp), errorsLast24Hours: UInt64(source.deadLettersLast24h),
                consumerLag: source.processorLag.map { UInt64(max(0, $0)) },
                breaker: source.breaker(now: Date()).flatMap(DashboardModel.BreakerState.init(rawValue:)))
        }
        let deadLetters = services.monitor.map { _ in Double(health.reduce(0) { $0 + $1.deadLettersLast24h }) / 1440 }
        return DashboardModel(sources: sources, deadLettersPerMinute: deadLetters, asOf: asOf(),
                              snapshotID: services.index.snapshot?.id, topWorks: topWorks)
    }

    private func asOf() -> Timestamp? {
        services.index.lastUpdate.flatMap(Self.timestamp) ?? services.index.snapshot.flatMap { try? Timestamp(parsing: $0.createdAt) }
    }

    static func timestamp(_ date: Date) -> Timestamp? {
        Timestamp(microsecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down)))
    }

    static func html(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }

    /// ETag from the content; `If-None-Match` with the same tag answers 304. Badges change as the
    /// numbers do, so caches keep them five minutes.
    static func cached(_ body: String, contentType: String, request: Request) -> Response {
        let tag = "\"" + SHA256.hash(data: Data(body.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
        var headers = HTTPFields()
        headers[.eTag] = tag
        headers[.cacheControl] = "public, max-age=300"
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == tag || $0 == "*" }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
