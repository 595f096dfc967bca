import Dispatch

/// `elements.map(body)`, with the calls spread over the machine's cores (libdispatch's pool; the caller's
/// thread takes part). The processor's partitions are independent, so each call may touch one
/// partition's engine, offsets and store, and nothing shared.
func concurrentMap<Element: Sendable, Result>(_ elements: [Element], _ body: @Sendable (Element) -> Result) -> [Result] {
    guard elements.count > 1 else { return elements.map(body) }
    return [Result](unsafeUninitializedCapacity: elements.count) { buffer, count in
        let slots = Slots(base: buffer.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: elements.count) { index in
            (slots.base + index).initialize(to: body(elements[index]))
        }
        count = elements.count
    }
}

/// Each worker initialises its own slot of the result buffer, and only that one.
private struct Slots<Result>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Result>
}
