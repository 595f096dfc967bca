import ALMTestSupport
import DevBroker
import Foundation
import Testing

/// librdkafka's security properties pass through `-X` untouched: `alm` talks TLS to a broker whose
/// only way in is a TLS listener (a certificate made for the test), and a configured password never
/// reaches the logs.
@Suite("TLS and secrets", .serialized, .timeLimit(.minutes(5)))
struct TLSTests {
    @Test("alm topics apply, generate and process --until-end over TLS; the SASL password is in no output",
          .enabled(if: FileManager.default.isExecutableFile(atPath: almBinary.path), "needs .build/debug/alm (make test builds it)"))
    func overTLS() async throws {
        try await withTemporaryDirectory { dir in
            let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
            let openssl = try await run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                                                             "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
            #expect(openssl.status == 0, "\(openssl.output)")

            let tlsPort = try DevBroker.freeLoopbackPort()
            let broker = try DevBroker.start(tansu: Tansu.locate(projectRoot: projectRoot), advertisedPort: tlsPort,
                                             logFile: dir.appendingPathComponent("tansu.log"))
            defer { broker.stop() }
            let proxy = Process()
            proxy.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            proxy.arguments = ["python3", projectRoot.appendingPathComponent("scripts/tls-proxy.py").path,
                               String(tlsPort), String(broker.port), cert, key]
            let proxyLog = dir.appendingPathComponent("proxy.log")
            FileManager.default.createFile(atPath: proxyLog.path, contents: nil)
            proxy.standardOutput = try FileHandle(forWritingTo: proxyLog)
            proxy.standardError = proxy.standardOutput
            try proxy.run()
            defer { proxy.terminate() }
            while !DevBroker.canConnect(port: tlsPort) { try await Task.sleep(for: .milliseconds(50)) }

            let password = "hunter2-\(UUID().uuidString)"
            let tls = ["-X", "bootstrap.servers=127.0.0.1:\(tlsPort)", "-X", "security.protocol=ssl", "-X", "ssl.ca.location=\(cert)",
                       "-X", "sasl.password=\(password)", "--log-level", "debug", "--topics", projectRoot.appendingPathComponent("topics.yaml").path]
            var outputs: [String] = []
            for arguments in [["topics", "apply"], ["generate", "--records", "2000", "--works", "100", "--seed", "3"],
                              ["process", "--until-end", "--state-dir", dir.appendingPathComponent("state").path,
                               "--snapshot-dir", dir.appendingPathComponent("snapshots").path,
                               "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]] {
                let result = try await run(almBinary.path, arguments + tls)
                #expect(result.status == 0, "alm \(arguments.joined(separator: " ")): \(result.output.suffix(2000))")
                outputs.append(result.output)
            }
            #expect(outputs[2].contains("processed "), "\(outputs[2].suffix(500))")
            #expect(outputs.allSatisfy { !$0.contains(password) }, "the password appears in the output")
            // Every connection went through the TLS-only proxy (the broker advertises only its port).
            let connections = try String(contentsOf: proxyLog, encoding: .utf8).split(separator: "\n").filter { $0.contains("connection") }
            #expect(!connections.isEmpty && connections.allSatisfy { $0.contains("TLSv1.") }, "\(connections)")
        }
    }

    /// Runs a program to its end with standard output and error together.
    private func run(_ path: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = projectRoot
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("alm-tls-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let status = await process.exitStatus()
        try handle.close()
        return (status, try String(contentsOf: log, encoding: .utf8))
    }
}
