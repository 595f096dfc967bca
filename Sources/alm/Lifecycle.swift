import ALMServe
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// How every long-running command runs (swift-service-lifecycle): SIGTERM or SIGINT asks the work to
/// stop — it finishes the batch in hand, writes its state, flushes and leaves its group — and the
/// process exits 0. The work gets `shutdownLimit` to do so before it is cancelled. With a health port,
/// `/healthz` and `/readyz` answer beside it until it has stopped.
struct Lifecycle {
    static let shutdownLimit: Duration = .seconds(30)

    let name: String
    let healthPort: Int?
    let logger: Logger

    func run<T: Sendable>(ready: @escaping @Sendable () -> Bool = { true },
                          _ work: @escaping @Sendable (_ stopRequested: @escaping @Sendable () -> Bool) async throws -> T) async throws -> T {
        let outcome = Mutex<T?>(nil)
        let worker = Worker(name: name) { stopRequested in
            let value = try await work(stopRequested)
            outcome.withLock { $0 = value }
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if let healthPort {
            let name = self.name
            services.append(.init(service: healthApplication(port: healthPort, ready: ready, logger: logger) { port in
                // Scripts and tests read the port here (0 asks for any free one).
                FileHandle.standardOutput.write(Data("\(name): health on http://0.0.0.0:\(port)/healthz /readyz\n".utf8))
            }))
        }
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = Self.shutdownLimit
        try await ServiceGroup(configuration: configuration).run()
        guard let value = outcome.withLock({ $0 }) else { throw LifecycleError("\(name) stopped before it finished") }
        return value
    }

    /// The command's work as a service: graceful shutdown sets the flag the work polls between batches.
    private struct Worker: Service {
        let name: String
        let body: @Sendable (_ stopRequested: @escaping @Sendable () -> Bool) async throws -> Void

        func run() async throws {
            let stop = StopFlag()
            try await withGracefulShutdownHandler {
                try await body { stop.isSet }
            } onGracefulShutdown: {
                stop.set()
            }
        }
    }
}

final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

struct LifecycleError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct LifecycleOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Serve /healthz and /readyz on this port while running.", valueName: "port"))
    var healthPort: Int?

    func validate() throws {
        if let healthPort, !(0...65_535).contains(healthPort) { throw ValidationError("--health-port must lie in 0...65535") }
    }
}
