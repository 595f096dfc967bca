import ArgumentParser
import DevBroker
import Foundation

struct DevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev", abstract: "Development tools.", subcommands: [Broker.self])

    struct Broker: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The development broker (Tansu, in memory, on 127.0.0.1).",
            subcommands: [Start.self, Stop.self, Status.self])
    }

    struct RunDirectory: ParsableArguments {
        @Option(help: ArgumentHelp("Where the broker's pid file and log live.", valueName: "dir"))
        var runDir: String = "run"

        var pidFile: URL { URL(fileURLWithPath: runDir).appendingPathComponent("broker.pid") }
        var logFile: URL { URL(fileURLWithPath: runDir).appendingPathComponent("broker.log") }

        /// The broker this run directory recorded, if its process still exists.
        func running() -> DevBroker? {
            guard let text = try? String(contentsOf: pidFile, encoding: .utf8) else { return nil }
            let fields = text.split(whereSeparator: \.isWhitespace)
            guard fields.count == 2, let pid = Int32(fields[0]), let port = Int(fields[1]) else { return nil }
            let broker = DevBroker(port: port, pid: pid, logFile: logFile)
            return broker.isRunning ? broker : nil
        }
    }

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start the broker in the background.")

        @Option(help: "Port on 127.0.0.1.") var port: Int = 9092
        @OptionGroup var runDirectory: RunDirectory

        func run() throws {
            if let broker = runDirectory.running() {
                print("dev broker already running: pid \(broker.pid) on \(broker.bootstrapServers)")
                return
            }
            let root = Tansu.projectRoot(from: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
                ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            let tansu = try Tansu.locate(projectRoot: root)
            let broker = try DevBroker.start(tansu: tansu, port: port, logFile: runDirectory.logFile, detached: true)
            try "\(broker.pid) \(broker.port)\n".write(to: runDirectory.pidFile, atomically: true, encoding: .utf8)
            print("dev broker started: pid \(broker.pid) on \(broker.bootstrapServers), log \(runDirectory.logFile.path)")
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the broker started by `start`.")
        @OptionGroup var runDirectory: RunDirectory

        func run() throws {
            guard let broker = runDirectory.running() else {
                print("dev broker not running")
                try? FileManager.default.removeItem(at: runDirectory.pidFile)
                return
            }
            broker.stop()
            try? FileManager.default.removeItem(at: runDirectory.pidFile)
            print("dev broker stopped (pid \(broker.pid))")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say whether the broker runs; exit 1 if not.")
        @OptionGroup var runDirectory: RunDirectory

        func run() throws {
            guard let broker = runDirectory.running() else {
                print("dev broker not running")
                throw ExitCode(1)
            }
            let accepting = DevBroker.canConnect(port: broker.port)
            print("dev broker running: pid \(broker.pid) on \(broker.bootstrapServers)\(accepting ? "" : " (not accepting connections)")")
            if !accepting { throw ExitCode(1) }
        }
    }
}
