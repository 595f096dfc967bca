import ALMAggregation
import ALMCore
import ALMWorkload
import Benchmark

// The processor's hot paths, per record, on records of the benchmark's own workload. Run with
// `make bench-micro` (swift package benchmark); the figures of record are in docs/performance.md.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(3))

    let workload = sample(records: 20_000)
    let valid = workload.filter { !$0.isMalformed }.map(\.value)
    let events = valid.compactMap { try? RawEventDecoder.decode($0) }
    let dois = events.map { "https://doi.org/" + $0.work.uppercased() }

    Benchmark("decode and validate one record", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(try? RawEventDecoder.decode(valid[index % valid.count]))
        }
    }

    Benchmark("normalise one DOI", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(try? DOI.normalize(dois[index % dois.count]))
        }
    }

    // The processor's default rules: a 2-day usage horizon.
    let rules = AggregationRules(usageLatenessMicroseconds: 172_800 * 1_000_000)
    Benchmark("apply one record to a partition's state", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var engine = PartitionEngine(rules: rules)
        for index in benchmark.scaledIterations {
            if index % events.count == 0 { engine = PartitionEngine(rules: rules) }
            blackHole(engine.admit(events[index % events.count]))
        }
    }
}

func sample(records: Int) -> [WorkloadRecord] {
    var out: [WorkloadRecord] = []
    Workload(WorkloadSpec(records: records, works: records / 10, seed: 7)).generate { out.append($0) }
    return out
}
