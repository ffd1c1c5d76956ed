/// A fixed-capacity list over memory its owner allocated once: the Router's per-decision scratch
/// (`chosen`, `pool`, `weights`). An `Array` here cost a uniqueness check on every append and a
/// generic `replaceSubrange` call on every `removeAll(keepingCapacity:)`: together a sixth of the
/// DNS server's instructions per query (callgrind). This is a pointer and a count.
///
/// A view, not a value: a copy shares the memory, and the next decision overwrites it. Read the
/// result before routing again, and never past the owner's life (`ScratchMemory`).
package struct ScratchList<Element: BitwiseCopyable>: RandomAccessCollection {
    private let base: UnsafeMutablePointer<Element>?
    /// The most elements the memory holds.
    package let capacity: Int
    package private(set) var count = 0

    /// An empty list over `capacity` elements at `base`.
    init(base: UnsafeMutablePointer<Element>?, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    package var startIndex: Int { 0 }
    package var endIndex: Int { count }

    /// The element at `index`, which must be below `count`.
    package subscript(index: Int) -> Element {
        @inline(__always) get {
            precondition(index >= 0 && index < count, "ScratchList index out of range")
            return base.unsafelyUnwrapped[index]
        }
        @inline(__always) set {
            precondition(index >= 0 && index < count, "ScratchList index out of range")
            base.unsafelyUnwrapped[index] = newValue
        }
    }

    /// Appends `element`; the owner sized the memory so this never overflows.
    @inline(__always) mutating func append(_ element: Element) {
        precondition(count < capacity, "ScratchList is full")
        base.unsafelyUnwrapped[count] = element
        count += 1
    }

    /// Appends every element of `other`.
    @inline(__always) mutating func append(contentsOf other: ScratchList<Element>) {
        precondition(count + other.count <= capacity, "ScratchList is full")
        guard other.count > 0 else { return }
        (base.unsafelyUnwrapped + count).update(from: other.base.unsafelyUnwrapped, count: other.count)
        count += other.count
    }

    /// Empties the list (the memory stays).
    @inline(__always) mutating func removeAll() { count = 0 }

    /// Drops the last element.
    @inline(__always) mutating func removeLast() {
        precondition(count > 0, "ScratchList is empty")
        count -= 1
    }

    /// Keeps the first `n` elements.
    @inline(__always) mutating func keepFirst(_ n: Int) {
        precondition(n >= 0 && n <= count, "ScratchList count out of range")
        count = n
    }
}

/// The memory behind one Router's scratch lists: three arrays of `capacity` entries, grown (never
/// per query: once per snapshot with a larger service) and freed with the Router.
final class ScratchMemory {
    private(set) var capacity = 0
    private(set) var chosen: UnsafeMutablePointer<Int32>?
    private(set) var pool: UnsafeMutablePointer<Int32>?
    private(set) var weights: UnsafeMutablePointer<UInt64>?

    /// Makes room for at least `needed` entries in each list, discarding their contents.
    func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        release()
        capacity = Swift.max(needed, 8)
        chosen = .allocate(capacity: capacity)
        pool = .allocate(capacity: capacity)
        weights = .allocate(capacity: capacity)
    }

    private func release() {
        chosen?.deallocate()
        pool?.deallocate()
        weights?.deallocate()
    }

    deinit { release() }
}
