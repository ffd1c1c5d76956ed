/// Something an event loop watches: a socket and the code that reacts to it.
///
/// Every method is called on the owning loop's thread only, so conforming classes keep their
/// state in plain `var`s with no locks (they are deliberately not `Sendable`).
package protocol Selectable: AnyObject {
    /// The descriptor registered with epoll.
    var descriptor: CInt { get }
    /// The descriptor has bytes to read, a connection to accept, or hit EOF/an error
    /// (EPOLLHUP and EPOLLERR are delivered here: the next read reports them).
    func readable(now: Instant)
    /// The descriptor can take more bytes (only while `.write` interest is set).
    func writable(now: Instant)
}

/// What a `Selectable` wants to hear about.
package struct Interest: OptionSet, Sendable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    package static let read = Interest(rawValue: 1)
    package static let write = Interest(rawValue: 2)
    package static let none: Interest = []
}
