import DevBroker
import Foundation

/// A command run as a child process, timed from spawn to exit. (Its memory it reports itself: `wait4`'s
/// `ru_maxrss` would include this process's, which the child inherits until its exec.)
public struct ChildRun: Sendable {
    public var status: Int32
    public var seconds: Double
    public var output: String

    /// Runs `arguments` (the first is the executable's path) with standard output and error in `log`.
    public static func run(_ arguments: [String], log: URL) async throws -> ChildRun {
        let started = ContinuousClock.now
        let child = try ChildProcess.spawn(arguments, output: log, append: false)
        // waitpid blocks: on a thread of its own, never on one of the concurrency pool's.
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(child, &status, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: status)
            }
        }
        let elapsed = ContinuousClock.now - started
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return ChildRun(status: exitStatus, seconds: elapsed.seconds, output: output)
    }

    /// Throws with the end of the output unless the command exited 0.
    public func checked(_ what: String) throws -> ChildRun {
        guard status == 0 else {
            throw BenchError("\(what) exited with status \(status):\n\(output.split(separator: "\n").suffix(15).joined(separator: "\n"))")
        }
        return self
    }
}

public struct BenchError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
