import ArgumentParser
import Kafka

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version of alm and of the librdkafka it runs with.")

    static let almVersion = "0.1.0"

    func run() {
        print("alm \(Self.almVersion)")
        print("librdkafka \(Librdkafka.version)")
    }
}
