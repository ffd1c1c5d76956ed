/// Identifies a scheduled timer so it can be cancelled.
package struct TimerID: Hashable, Sendable {
    let value: UInt64
}

/// A min-heap of deadlines for one event loop (loop-confined, not thread-safe).
///
/// Cancellation is lazy: a cancelled timer stays in the heap and is skipped when it surfaces, so
/// both scheduling and cancelling are O(log n) at most and cancel is O(1). This matters because
/// connections re-arm idle timers on every request.
struct TimerHeap {
    private struct Entry {
        let deadline: Instant
        let id: UInt64
    }

    private var heap: [Entry] = []
    private var actions: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 0

    var count: Int { actions.count }

    mutating func schedule(at deadline: Instant, _ action: @escaping () -> Void) -> TimerID {
        nextID += 1
        actions[nextID] = action
        heap.append(Entry(deadline: deadline, id: nextID))
        siftUp(heap.count - 1)
        return TimerID(value: nextID)
    }

    mutating func cancel(_ id: TimerID) {
        actions[id.value] = nil
    }

    /// The earliest live deadline, dropping cancelled entries from the top.
    mutating func nextDeadline() -> Instant? {
        while let top = heap.first {
            if actions[top.id] != nil { return top.deadline }
            popTop()
        }
        return nil
    }

    /// Removes and returns the actions due at `now`, earliest first.
    mutating func popDue(now: Instant, into due: inout [() -> Void]) {
        while let top = heap.first, top.deadline <= now {
            popTop()
            if let action = actions.removeValue(forKey: top.id) { due.append(action) }
        }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private func less(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.id < b.id)
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, less(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, less(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
