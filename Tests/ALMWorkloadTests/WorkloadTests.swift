import ALMCore
@testable import ALMWorkload
import Foundation
import Testing

@Suite("Workload: determinism and size")
struct DeterminismTests {
    @Test("the same spec yields the same bytes; another seed yields others")
    func deterministic() {
        let spec = WorkloadSpec(records: 20_000, works: 2_000, seed: 99, malformedRate: 0.01)
        let first = Workload(spec).all()
        let second = Workload(spec).all()
        #expect(first == second)

        var other = spec
        other.seed = 100
        let third = Workload(other).all()
        #expect(third.count == first.count)
        let same = zip(first, third).filter { $0 == $1 }.count
        #expect(same < first.count / 100, "different seeds share \(same) records at the same positions")
    }

    @Test("generate streams exactly what all() returns")
    func streamingMatchesAll() {
        let workload = Workload(WorkloadSpec(records: 5_000, works: 300, seed: 3))
        var streamed: [WorkloadRecord] = []
        workload.generate { streamed.append($0) }
        #expect(streamed == workload.all())
    }

    @Test("generate rethrows and stops at the closure's error")
    func rethrowsClosureErrors() {
        struct Stop: Error {}
        var seen = 0
        #expect(throws: Stop.self) {
            try Workload(WorkloadSpec(records: 1_000, works: 10)).generate { _ in
                seen += 1
                if seen == 10 { throw Stop() }
            }
        }
        #expect(seen == 10)
    }

    @Test("exactly the requested number of records", arguments: [0, 1, 2, 7, 100, 999, 12_345])
    func exactCount(records: Int) {
        let workload = Workload(WorkloadSpec(records: records, works: 50, seed: UInt64(records)))
        var count = 0
        workload.generate { _ in count += 1 }
        #expect(count == records)
        #expect(workload.all().count == records)
        #expect(standardRecords.count == standardSpec.records)
    }

    @Test("a single work, uniform popularity, no duplicates or malformed records")
    func edgeSpecs() throws {
        let one = Workload(WorkloadSpec(records: 2_000, works: 1, seed: 5)).all()
        #expect(one.filter { !$0.isMalformed }.allSatisfy { $0.key == Array("10.5555/alm.1".utf8) })

        let clean = Workload(WorkloadSpec(records: 20_000, works: 500, seed: 5, duplicateRate: 0, malformedRate: 0)).all()
        #expect(!clean.contains { $0.isMalformed })
        #expect(Set(clean.map(\.value)).count > clean.count * 995 / 1000)

        let broken = Workload(WorkloadSpec(records: 500, works: 50, seed: 5, duplicateRate: 0, malformedRate: 1)).all()
        #expect(broken.allSatisfy { $0.isMalformed })
    }
}

@Suite("Workload: every valid record is valid, every malformed one is rejected")
struct ValidityTests {
    @Test("valid records decode; key = normalised work; topic = alm.raw.<source>; canonical bytes")
    func validRecordsDecode() throws {
        var canonical = 0, respelled = 0
        for record in standardRecords where !record.isMalformed {
            let event: RawEvent
            do {
                event = try RawEventDecoder.decode(record.value)
            } catch {
                Issue.record("\(error): \(text(record.value))")
                continue
            }
            #expect(text(record.key) == event.work)
            #expect(DOI.isNormalized(text(record.key)))
            #expect(record.topic == "alm.raw.\(event.source)")
            #expect(Workload.sources.contains(event.source))
            if event.encodedJSON() == record.value {
                canonical += 1
            } else {
                // Only the spelling of `work` differs from the canonical encoding.
                respelled += 1
                let written = try #require(writtenWork(record.value))
                #expect(written != event.work)
                #expect(try DOI.normalize(written) == event.work)
                let canonicalText = text(record.value).replacingOccurrences(
                    of: #""work":"\#(written)""#, with: #""work":"\#(event.work)""#)
                #expect(canonicalText == event.encodedJSONString())
            }
        }
        let share = Double(respelled) / Double(canonical + respelled)
        #expect(share > 0.012 && share < 0.03, "\(respelled) records spell work another way (\(share))")
    }

    @Test("every other accepted spelling of work appears")
    func workSpellings() {
        let spellings = Set(standardRecords.lazy.filter { !$0.isMalformed }.compactMap { writtenWork($0.value) })
        for prefix in ["https://doi.org/10.5555/ALM.", "doi:10.5555/alm.", "https://dx.doi.org/10.5555/alm.", "10.5555/ALM."] {
            #expect(spellings.contains { $0.hasPrefix(prefix) }, "no work spelled \(prefix)…")
        }
    }

    @Test("fields follow the schema and design.md: metrics, timestamps, sizes")
    func fieldsAreRealistic() {
        let metrics: Set<String> = ["references", "mentions", "annotates", "cites", "discusses", "bookmarks", "views", "downloads", "readers", "recommends"]
        let earliest = try! Timestamp(parsing: "2025-01-01T00:00:00Z")
        let latest = try! Timestamp(parsing: "2026-10-31T23:59:59.999Z")
        var sizes: [Int] = []
        for (index, event) in firstDeliveries {
            #expect(metrics.contains(event.metric))
            #expect(event.observedAt.text.hasSuffix("Z"))
            #expect(event.observedAt >= earliest && event.observedAt <= latest, "\(event.observedAt)")
            if let occurred = event.occurredAt {
                #expect(occurred.text.hasSuffix("Z"))
                #expect(occurred >= earliest && occurred <= latest, "\(occurred)")
                #expect(event.observedAt >= occurred, "observed before it occurred: \(text(standardRecords[index].value))")
            }
            if event.kind == .event {
                #expect(event.id?.hasPrefix(event.source + ":") == true)
            }
            if event.source == "accesslog" {
                let session = event.session ?? ""
                #expect(session.count == 16 && session.allSatisfy(\.isHexDigit))
                #expect(event.agent != nil)
            }
            sizes.append(standardRecords[index].value.count)
        }
        let average = sizes.reduce(0, +) / sizes.count
        #expect(average >= 200 && average <= 400, "average record size \(average)")
        #expect(sizes.max()! < 1024)
        #expect(firstDeliveries.contains { $0.event.obj != nil })
        #expect(firstDeliveries.contains { $0.event.meta != nil })
        #expect(firstDeliveries.contains { $0.event.subj != nil })
    }

    @Test("every malformed record fails the decoder, in varied ways")
    func malformedRecordsFail() {
        let records = Workload(WorkloadSpec(records: 20_000, works: 500, seed: 11, malformedRate: 0.3)).all()
        var reasons: [String: Int] = [:]
        for record in records + standardRecords where record.isMalformed {
            #expect(record.topic.hasPrefix("alm.raw.") && Workload.sources.contains(String(record.topic.dropFirst(8))))
            #expect(!record.key.isEmpty)
            do {
                let event = try RawEventDecoder.decode(record.value)
                Issue.record("a malformed record decoded: \(event)")
            } catch {
                reasons[error.code + ":" + (error.field ?? "-"), default: 0] += 1
            }
        }
        #expect(reasons.count >= 20, "only \(reasons.count) kinds of rejection: \(reasons)")
        for code in EventValidationError.Reason.allCases.map(\.code) where code != "too_short" && code != "nesting_too_deep" {
            #expect(reasons.keys.contains { $0.hasPrefix(code + ":") }, "no malformed record rejected with \(code)")
        }
    }

    @Test("each kind of damage breaks records of every source it applies to", arguments: MalformedKind.allCases)
    func everyDamageBreaksEveryTemplate(kind: MalformedKind) throws {
        let generator = Generator(Workload(WorkloadSpec(records: 1_000, works: 100, seed: 17)))
        for source in Source.allCases {
            switch kind.template {
            case .count where !Source.countSources.contains(source): continue
            case .event where !Source.eventSources.contains(source): continue
            default: break
            }
            for attempt in 0..<40 {
                generator.slot = attempt * 25
                generator.scenarioOutput.removeAll()
                generator.runScenario(source)
                var record = generator.scenarioOutput[0].record
                _ = try RawEventDecoder.decode(record.value)
                var damage = RecordDamage(bytes: record.value)
                damage.apply(kind, key: &record.key, random: &generator.random)
                #expect(throws: EventValidationError.self, "\(kind) on \(source): \(text(damage.bytes))") {
                    try RawEventDecoder.decode(damage.bytes)
                }
            }
        }
    }

    @Test("a record that names no DOI is keyed by what it names")
    func notADOIKey() throws {
        let records = Workload(WorkloadSpec(records: 30_000, works: 100, seed: 2, malformedRate: 0.5)).all()
        func rejectedForWork(_ record: WorkloadRecord) -> Bool {
            do {
                _ = try RawEventDecoder.decode(record.value)
                return false
            } catch {
                return error.reason == .invalidDOI
            }
        }
        let invalidWork = records.filter { $0.isMalformed && rejectedForWork($0) }
        #expect(!invalidWork.isEmpty)
        for record in invalidWork {
            #expect(writtenWork(record.value) == text(record.key))
        }
    }
}

@Suite("Workload: shares and popularity")
struct ShareTests {
    @Test("about 20% of records re-deliver an earlier record byte for byte")
    func duplicates() {
        var seen = Set<[UInt8]>()
        var repeated = 0
        for record in standardRecords where !seen.insert(record.value).inserted {
            repeated += 1
            #expect(!record.isMalformed)
        }
        let share = Double(repeated) / Double(standardRecords.count)
        #expect(abs(share - 0.2) < 0.01, "duplicate share \(share)")

        // A re-delivery is the whole record again: same topic and key.
        var firstByValue: [[UInt8]: WorkloadRecord] = [:]
        for record in standardRecords.prefix(20_000) {
            if let first = firstByValue[record.value] {
                #expect(first == record)
            } else {
                firstByValue[record.value] = record
            }
        }
    }

    @Test("about 0.1% of records are malformed")
    func malformedShare() {
        let malformed = standardRecords.filter(\.isMalformed).count
        #expect((60...145).contains(malformed), "\(malformed) malformed of 100 000")
    }

    @Test("about 10% of usage requests come from robots on the COUNTER-Robots list")
    func robots() throws {
        let requests = firstDeliveries.map(\.event).filter { $0.source == "accesslog" }
        #expect(requests.count > 25_000)
        let robotAgents = Set(Vocabulary.robotAgents)
        let fromRobots = requests.filter { robotAgents.contains($0.agent!) }.count
        let share = Double(fromRobots) / Double(requests.count)
        #expect(abs(share - 0.1) < 0.025, "robot share \(share)")

        #expect(Set(requests.map { $0.agent! }).isSubset(of: robotAgents.union(Vocabulary.humanAgents)))
        let list = try #require(counterRobots, "data/counter-robots/COUNTER_Robots_list.json not found")
        for agent in Vocabulary.robotAgents { #expect(isRobot(agent, list), "\(agent) is not on the robots list") }
        for agent in Vocabulary.humanAgents { #expect(!isRobot(agent, list), "\(agent) is on the robots list") }
        // A robot keeps its agent for the whole session.
        var agentOfSession: [String: String] = [:]
        for request in requests {
            let agent = agentOfSession[request.session!, default: request.agent!]
            #expect(agent == request.agent)
            agentOfSession[request.session!] = agent
        }
    }

    @Test("sources and metrics come in the documented mix")
    func sourceMix() {
        var bySource: [String: Int] = [:]
        for (_, event) in firstDeliveries { bySource[event.source, default: 0] += 1 }
        let total = Double(firstDeliveries.count)
        for source in Source.allCases {
            let share = Double(bySource[source.name] ?? 0) / total
            #expect(abs(share - source.recordShare) < 0.015, "\(source.name): \(share), aiming at \(source.recordShare)")
        }
        let metrics = Set(firstDeliveries.map { "\($0.event.source)/\($0.event.metric)/\($0.event.kind)" })
        for expected in [
            "wikipedia/references/event", "bluesky/mentions/event", "hypothesis/annotates/event",
            "eventdata/discusses/event", "eventdata/cites/event", "eventdata/recommends/event",
            "crossref/cites/total", "openalex/cites/total", "counter/downloads/count", "counter/views/count",
            "pmc/views/count", "pmc/downloads/count", "accesslog/views/event", "accesslog/downloads/event",
        ] {
            #expect(metrics.contains(expected), "no \(expected)")
        }
        let references = firstDeliveries.filter { $0.event.source == "wikipedia" }
        let deletes = references.filter { $0.event.action == .delete }.count
        let retracted = Double(deletes) / Double(references.count - deletes)
        #expect(retracted > 0.03 && retracted < 0.07, "retracted references \(retracted)")
    }

    @Test("works follow Zipf's law: the top work has far more records than the median one")
    func zipfSkew() {
        var perWork: [String: Int] = [:]
        for record in standardRecords where !record.isMalformed { perWork[text(record.key), default: 0] += 1 }
        let counts = perWork.values.sorted(by: >)
        let top = counts[0]
        let median = counts[counts.count / 2]
        #expect(top >= 20 * max(median, 1), "top \(top), median \(median)")
        let mostFrequent = perWork.max { $0.value < $1.value }!.key
        #expect(mostFrequent == Workload(standardSpec).worksByPopularity()[0])
        #expect(perWork.count > 2_000)

        let uniform = Workload(WorkloadSpec(records: 50_000, works: 100, seed: 7, zipfExponent: 0)).all()
        var uniformCounts: [String: Int] = [:]
        for record in uniform where !record.isMalformed { uniformCounts[text(record.key), default: 0] += 1 }
        let sorted = uniformCounts.values.sorted(by: >)
        #expect(Double(sorted[0]) < 1.6 * Double(sorted[sorted.count / 2]))
    }
}

@Suite("Workload: the features the processor's rules are about")
struct FeatureTests {
    @Test("a retraction delivered before its addition, with a later occurred_at")
    func deleteBeforeAdd() {
        var deletes: [String: RawEvent] = [:]
        var found = 0
        for (_, event) in standardEvents where event.kind == .event {
            let key = event.source + "\u{0}" + event.id!
            if event.action == .delete {
                deletes[key] = deletes[key] ?? event
            } else if let delete = deletes[key], delete.occurredAt! > event.occurredAt! {
                found += 1
            }
        }
        #expect(found >= 10, "\(found) deletes delivered before their add")
    }

    @Test("a total re-observed out of order: an older, smaller observation after a newer one")
    func outOfOrderTotal() {
        var newest: [String: RawEvent] = [:]
        var found = 0
        for (_, event) in standardEvents where event.kind == .total && event.source == "crossref" {
            if let seen = newest[event.work], event.observedAt < seen.observedAt {
                if event.value < seen.value { found += 1 }
            } else {
                newest[event.work] = event
            }
        }
        #expect(found >= 10, "\(found) older, smaller totals after newer ones")
    }

    @Test("a monthly count restated: same period, later observed_at, different value")
    func restatedPeriod() {
        var observations: [String: [RawEvent]] = [:]
        for (_, event) in firstDeliveries where event.kind == .count {
            observations["\(event.source) \(event.work) \(event.metric) \(event.period!)", default: []].append(event)
        }
        var restated = 0
        for (key, events) in observations where key.hasPrefix("counter") {
            let sorted = events.sorted { $0.observedAt < $1.observedAt }
            if zip(sorted, sorted.dropFirst()).contains(where: { $0.value != $1.value && $0.observedAt < $1.observedAt }) {
                restated += 1
            }
        }
        #expect(restated >= 10, "\(restated) restated periods")
        // pmc re-reports a month with the same number.
        for (key, events) in observations where key.hasPrefix("pmc") {
            #expect(Set(events.map(\.value)).count == 1, "\(key)")
        }
    }

    @Test("sessions issue bursts: the same work requested again within 30 s, some exactly at 30 s, some just after")
    func bursts() {
        var requests: [String: [Int64]] = [:]
        for (_, event) in firstDeliveries where event.source == "accesslog" {
            requests["\(event.session!) \(event.work) \(event.metric)", default: []].append(event.occurredAt!.microsecondsSinceEpoch)
        }
        var within = 0, exactly30 = 0, justAfter = 0
        for times in requests.values where times.count > 1 {
            let sorted = times.sorted()
            for (a, b) in zip(sorted, sorted.dropFirst()) {
                let gap = b - a
                if gap < 30_000_000 { within += 1 }
                if gap == 30_000_000 { exactly30 += 1 }
                if gap > 30_000_000 && gap <= 90_000_000 { justAfter += 1 }
            }
        }
        #expect(within >= 1_000, "\(within) double clicks")
        #expect(exactly30 >= 10, "\(exactly30) repeats exactly 30 s later")
        #expect(justAfter >= 10, "\(justAfter) repeats 30–90 s later")
    }

    @Test("ids are stable: a re-delivered event has the same id, distinct usage requests have distinct ids")
    func stableIDs() {
        var valueOfID: [String: [UInt8]] = [:]
        for (index, event) in firstDeliveries where event.source == "accesslog" {
            let value = standardRecords[index].value
            #expect(valueOfID[event.id!] == nil, "two requests share the id \(event.id!)")
            valueOfID[event.id!] = value
        }
    }
}
