import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Runs the HTTP server and the Kafka followers as one service group: SIGTERM or SIGINT stops
/// accepting requests, lets those in flight finish, stops the followers and returns.
public enum ServeRunner {
    public static func run(settings: ServeSettings, services: ServeServices, logger: Logger,
                           onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var serverLogger = logger
        // Hummingbird logs the cancellation of its tasks at shutdown as errors; they are not.
        serverLogger.logLevel = max(logger.logLevel, .critical)
        let application = Application(
            router: buildRouter(settings: settings, services: services),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "alm"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
            logger: serverLogger)
        var members: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: application)]
        if let follower = services.follower {
            members.append(.init(service: FollowerService(name: "alm.metrics follower", logger: logger) { try await follower.run() }))
        }
        if let monitor = services.monitor {
            members.append(.init(service: FollowerService(name: "pipeline monitor", logger: logger) { try await monitor.run() }))
        }
        let group = ServiceGroup(configuration: .init(services: members, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// A loop that runs until cancelled, as a service: graceful shutdown cancels it. A failure is logged
/// and retried after a pause (Kafka may be briefly away); the API keeps serving what it has.
struct FollowerService: Service {
    let name: String
    let logger: Logger
    let body: @Sendable () async throws -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await body()
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("\(name) failed: \(error); retrying in 5 s")
                    try? await Task.sleep(for: .seconds(5))
                }
            }
        }
    }
}
