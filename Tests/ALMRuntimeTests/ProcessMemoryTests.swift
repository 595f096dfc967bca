@testable import ALMRuntime
import Testing

@Suite("process memory from /proc")
struct ProcessMemoryTests {
    @Test("VmHWM is read in bytes; a status without it gives nil")
    func peak() throws {
        let status = "Name:\talm\nVmPeak:\t  900000 kB\nVmHWM:\t   81234 kB\nVmRSS:\t   70000 kB\n"
        #expect(ProcessMemory.parseKilobytes(field: "VmHWM", in: status) == 81234)
        #expect(ProcessMemory.parseKilobytes(field: "VmHWM", in: "Name:\talm\n") == nil)
        let own = try #require(ProcessMemory.peakResidentBytes())
        #expect(own > 1 << 20, "this test process holds more than 1 MiB")
        let line = try #require(ProcessMemory.peakLine())
        #expect(line.hasPrefix("peak RSS ") && line.hasSuffix(" KiB"))
    }
}
