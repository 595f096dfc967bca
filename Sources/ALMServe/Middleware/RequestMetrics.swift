import Foundation
import Hummingbird
import Prometheus

/// Counts requests and their duration per route pattern (never the path itself: a DOI would make
/// the labels unbounded), method and status class.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let registry: PrometheusCollectorRegistry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context: context, status: response.status.code, since: start)
            return response
        } catch let error as HTTPResponseError {
            record(request, context: context, status: error.status.code, since: start)
            throw error
        } catch {
            record(request, context: context, status: 500, since: start)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, status: Int, since start: ContinuousClock.Instant) {
        let route = context.endpointPath ?? "unmatched"
        let labels = [("route", route), ("method", request.method.rawValue), ("status", "\(status / 100)xx")]
        registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "alm_http_requests", unitName: "total", helpText: "HTTP requests answered"),
            labels: labels
        ).increment()
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: "alm_http_request_duration", unitName: "seconds", helpText: "Time to answer"),
            labels: [("route", route)],
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2)]
        ).record(ContinuousClock.now - start)
    }
}
