import Hummingbird
import Logging

/// `--health-port`: liveness and readiness of a long-running command for an orchestrator.
/// `GET /healthz` is 200 while the process serves at all; `GET /readyz` is 200 once `ready()` says so
/// (the processor: its group gave it partitions; a collector: it is collecting), else 503.
public func healthApplication(host: String = "0.0.0.0", port: Int, ready: @escaping @Sendable () -> Bool, logger: Logger,
                              onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
    let router = Router()
    router.get("healthz") { _, _ in try WorkRoutes.json(["status": "ok"]) }
    router.get("readyz") { _, _ in
        let isReady = ready()
        return try WorkRoutes.json(["status": isReady ? "ready" : "starting"], status: isReady ? .ok : .serviceUnavailable)
    }
    var quiet = logger
    quiet.logLevel = .critical
    return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "alm-health"),
                       onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) }, logger: quiet)
}
