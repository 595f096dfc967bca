import Foundation

/// A Dockerfile read as text: instructions (continuation lines joined, comments dropped) grouped into
/// stages. Heredocs are not supported; this Dockerfile does not use them.
struct DockerfileModel {
    struct Instruction {
        var keyword: String      // upper-cased: FROM, RUN, COPY, ...
        var arguments: String
        var line: Int            // 1-based line where the instruction starts
    }

    struct Stage {
        var index: Int
        var image: String        // as written after FROM
        var name: String?
        var line: Int
        var instructions: [Instruction] = []
        /// The earlier stage this one starts from (`FROM build AS test`), if any.
        var parentStage: Int?

        var label: String { name.map { "stage \"\($0)\"" } ?? "stage \(index)" }
    }

    struct Copy {
        var from: String?        // --from=
        var sources: [String]
        var destination: String
        var line: Int
    }

    var stages: [Stage] = []

    init(_ text: String) {
        var instructions: [Instruction] = []
        var pending = ""
        var pendingLine = 0
        for (offset, rawLine) in text.components(separatedBy: "\n").enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") { continue }                       // comments and parser directives
            if pending.isEmpty && line.isEmpty { continue }
            if pending.isEmpty { pendingLine = offset + 1 }
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
                continue
            }
            pending += line
            let trimmed = pending.trimmingCharacters(in: .whitespaces)
            pending = ""
            guard !trimmed.isEmpty else { continue }
            let keywordEnd = trimmed.firstIndex(where: \.isWhitespace) ?? trimmed.endIndex
            instructions.append(Instruction(
                keyword: trimmed[..<keywordEnd].uppercased(),
                arguments: trimmed[keywordEnd...].trimmingCharacters(in: .whitespaces),
                line: pendingLine))
        }
        for instruction in instructions {
            if instruction.keyword == "FROM" {
                let words = instruction.arguments.split(whereSeparator: \.isWhitespace).map(String.init)
                    .filter { !$0.hasPrefix("--") }
                let image = words.first ?? ""
                let name = words.count >= 3 && words[1].lowercased() == "as" ? words[2] : nil
                var stage = Stage(index: stages.count, image: image, name: name, line: instruction.line)
                stage.parentStage = stages.first { $0.name != nil && $0.name?.lowercased() == image.lowercased() }?.index
                stages.append(stage)
            } else if !stages.isEmpty {
                stages[stages.count - 1].instructions.append(instruction)
            }
        }
    }

    /// The stage named by `COPY --from=` (a name or an index), if it is one of this file's.
    func stage(named reference: String) -> Stage? {
        if let index = Int(reference), stages.indices.contains(index) { return stages[index] }
        return stages.first { $0.name?.lowercased() == reference.lowercased() }
    }

    /// Stages whose base is an image from a registry rather than an earlier stage.
    var externalBases: [Stage] { stages.filter { $0.parentStage == nil } }

    /// The image a stage ultimately starts from, following `FROM <earlier stage>`.
    func baseImage(of stage: Stage) -> String {
        var current = stage
        while let parent = current.parentStage { current = stages[parent] }
        return current.image
    }

    // MARK: What a stage does

    static func runCommands(_ stage: Stage) -> [Instruction] { stage.instructions.filter { $0.keyword == "RUN" } }

    /// Shell commands of the stage's RUN instructions, split at `&&`, `||`, `;` and `|`, as word lists.
    /// RUN flags (`--mount=...`) are dropped.
    static func shellCommands(_ stage: Stage) -> [[String]] {
        var commands: [[String]] = []
        for run in runCommands(stage) {
            var words = ShellWords.split(run.arguments)
            while let first = words.first, first.hasPrefix("--") { words.removeFirst() }
            var current: [String] = []
            for word in words {
                if ["&&", "||", ";", "|"].contains(word) {
                    if !current.isEmpty { commands.append(current) }
                    current = []
                } else if word.hasSuffix(";") && word.count > 1 {
                    current.append(String(word.dropLast()))
                    commands.append(current)
                    current = []
                } else {
                    current.append(word)
                }
            }
            if !current.isEmpty { commands.append(current) }
        }
        return commands
    }

    /// Packages that `apt-get install` / `apt install` commands of the stage install (versions stripped).
    static func aptInstalls(_ stage: Stage) -> Set<String> {
        var packages: Set<String> = []
        for command in shellCommands(stage) {
            guard let tool = command.firstIndex(where: { $0 == "apt-get" || $0 == "apt" }),
                  let install = command[tool...].firstIndex(of: "install") else { continue }
            for word in command[(install + 1)...] where !word.hasPrefix("-") {
                packages.insert(String(word.split(separator: "=").first ?? Substring(word)))
            }
        }
        return packages
    }

    /// `swift build ...` commands of the stage, as word lists starting at `swift`.
    static func swiftBuilds(_ stage: Stage) -> [[String]] {
        shellCommands(stage).compactMap { command in
            guard let swift = command.indices.first(where: {
                command[$0].hasSuffix("swift") && $0 + 1 < command.count && command[$0 + 1] == "build"
            }) else { return nil }
            return Array(command[swift...])
        }
    }

    static func copies(_ stage: Stage) -> [Copy] {
        stage.instructions.filter { $0.keyword == "COPY" || $0.keyword == "ADD" }.compactMap { instruction in
            var words: [String]
            if instruction.arguments.hasPrefix("["),
               let data = instruction.arguments.data(using: .utf8),
               let array = try? JSONSerialization.jsonObject(with: data) as? [String] {
                words = array
            } else {
                words = instruction.arguments.split(whereSeparator: \.isWhitespace).map(String.init)
            }
            var from: String?
            while let first = words.first, first.hasPrefix("--") {
                if first.hasPrefix("--from=") { from = String(first.dropFirst("--from=".count)) }
                words.removeFirst()
            }
            guard words.count >= 2, let destination = words.last else { return nil }
            return Copy(from: from, sources: Array(words.dropLast()), destination: destination, line: instruction.line)
        }
    }

    /// Where a copied source lands: the destination itself, or `destination/basename` for a directory destination.
    static func landingPath(of source: String, in copy: Copy, workdir: String) -> String {
        var destination = copy.destination
        if !destination.hasPrefix("/") { destination = workdir + "/" + destination }
        let isDirectory = copy.destination.hasSuffix("/") || copy.sources.count > 1 || copy.destination == "."
        if isDirectory {
            let base = source.split(separator: "/").last.map(String.init) ?? source
            return Paths.normalise(destination + "/" + base)
        }
        return Paths.normalise(destination)
    }

    /// Files the stage copies from the build context: path in the image → path in the context.
    static func contextFiles(_ stage: Stage) -> [String: String] {
        var result: [String: String] = [:]
        var workdir = "/"
        for instruction in stage.instructions {
            if instruction.keyword == "WORKDIR" {
                workdir = instruction.arguments.hasPrefix("/") ? instruction.arguments : workdir + "/" + instruction.arguments
            }
            guard instruction.keyword == "COPY" || instruction.keyword == "ADD" else { continue }
            var single = stage
            single.instructions = [instruction]
            for copy in copies(single) where copy.from == nil {
                for source in copy.sources {
                    result[landingPath(of: source, in: copy, workdir: workdir)] = Paths.normalise(source)
                }
            }
        }
        return result
    }

    /// ENTRYPOINT in exec form (a JSON array); nil for shell form or none.
    static func entrypoint(_ stage: Stage) -> (exec: [String]?, raw: String?) {
        guard let last = stage.instructions.last(where: { $0.keyword == "ENTRYPOINT" }) else { return (nil, nil) }
        guard let data = last.arguments.data(using: .utf8),
              let array = try? JSONSerialization.jsonObject(with: data) as? [String] else {
            return (nil, last.arguments)
        }
        return (array, last.arguments)
    }

    /// The user the stage's process runs as (the last USER), nil when never set (root).
    static func user(_ stage: Stage) -> String? {
        stage.instructions.last { $0.keyword == "USER" }?.arguments
    }
}
