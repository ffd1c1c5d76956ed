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
///
/// Public and inlinable for the reason given on `ByteBuffer`: the proxy computes interests on
/// every event, and with a `package` conformance each `[]` and `insert` from another module was
/// an unspecialised generic `SetAlgebra` call (~2k instructions per proxied request).
public struct Interest: OptionSet, Sendable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    @inlinable public static var read: Interest { Interest(rawValue: 1) }
    @inlinable public static var write: Interest { Interest(rawValue: 2) }
    @inlinable public static var none: Interest { Interest(rawValue: 0) }
}
