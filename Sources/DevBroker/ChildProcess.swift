import Foundation

/// Starts a program with standard input from /dev/null and standard output and error into one file.
public enum ChildProcess {
    /// `arguments[0]` is the executable's path. With `newSession`, the child outlives this process's
    /// session (a broker started in the background).
    public static func spawn(_ arguments: [String], output: URL, append: Bool, newSession: Bool = false) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if newSession { posix_spawnattr_setflags(&attributes, posixSpawnSetsid) }

        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw DevBrokerError("cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }
}

#if canImport(Glibc)
private let posixSpawnSetsid: Int16 = 0x80  // glibc's POSIX_SPAWN_SETSID, which Swift cannot see without _GNU_SOURCE
#else
private let posixSpawnSetsid: Int16 = Int16(POSIX_SPAWN_SETSID)
#endif
