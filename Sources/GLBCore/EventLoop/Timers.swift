/// Identifies a scheduled timer so it can be cancelled: its slot in the loop's `TimerHeap` and
/// the slot's generation when it was scheduled, so a stale ID cannot cancel a later timer.
package struct TimerID: Hashable, Sendable {
    let slot: UInt32
    let generation: UInt32
}

/// A min-heap of deadlines for one event loop (loop-confined, not thread-safe).
///
/// Cancellation is lazy: a cancelled timer stays in the heap and is skipped when it surfaces, so
/// both scheduling and cancelling are O(log n) at most and cancel is O(1). This matters because
/// connections re-arm idle timers on every request.
///
/// Actions live in slots reused through a free list, and heap entries and IDs name a slot and its
/// generation: scheduling and cancelling index an array where a dictionary keyed by timer number
/// hashed twice per timer (~700 instructions per new proxy connection).
struct TimerHeap {
    private struct Entry {
        let deadline: Instant
        let slot: UInt32
        let generation: UInt32
        /// Schedule order, for equal deadlines.
        let sequence: UInt64
    }

    private struct Slot {
        var generation: UInt32 = 0
        var action: (() -> Void)?
    }

    private var heap: [Entry] = []
    private var slots: [Slot] = []
    private var free: [UInt32] = []
    private var nextSequence: UInt64 = 0
    private(set) var count = 0

    mutating func schedule(at deadline: Instant, _ action: @escaping () -> Void) -> TimerID {
        let slot: UInt32
        if let reused = free.popLast() {
            slot = reused
        } else {
            slot = UInt32(slots.count)
            slots.append(Slot())
        }
        slots[Int(slot)].action = action
        let generation = slots[Int(slot)].generation
        nextSequence += 1
        heap.append(Entry(deadline: deadline, slot: slot, generation: generation, sequence: nextSequence))
        siftUp(heap.count - 1)
        count += 1
        return TimerID(slot: slot, generation: generation)
    }

    mutating func cancel(_ id: TimerID) {
        _ = take(id.slot, id.generation)
    }

    /// The action in `slot` if it is still the one scheduled as `generation`; frees the slot.
    private mutating func take(_ slot: UInt32, _ generation: UInt32) -> (() -> Void)? {
        let index = Int(slot)
        guard index < slots.count, slots[index].generation == generation, let action = slots[index].action else { return nil }
        slots[index].action = nil
        slots[index].generation &+= 1
        free.append(slot)
        count -= 1
        return action
    }

    private func isLive(_ entry: Entry) -> Bool {
        let slot = slots[Int(entry.slot)]
        return slot.generation == entry.generation && slot.action != nil
    }

    /// The earliest live deadline, dropping cancelled entries from the top.
    mutating func nextDeadline() -> Instant? {
        while let top = heap.first {
            if isLive(top) { return top.deadline }
            popTop()
        }
        return nil
    }

    /// Removes and returns the actions due at `now`, earliest first.
    mutating func popDue(now: Instant, into due: inout [() -> Void]) {
        while let top = heap.first, top.deadline <= now {
            popTop()
            if let action = take(top.slot, top.generation) { due.append(action) }
        }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private func less(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
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
