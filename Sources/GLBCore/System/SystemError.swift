#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, and the `errno` it left.
package struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The C function, for example `"bind"`.
    package let call: String
    package let errno: CInt

    package init(call: String, errno: CInt) {
        self.call = call
        self.errno = errno
    }

    package var description: String {
        "\(call): \(String(cString: strerror(errno))) (errno \(errno))"
    }

    /// The process or system is out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM):
    /// a retry right away fails the same way. Other accept(2) errors (ECONNABORTED, EPROTO,
    /// EPERM, ...) concern one connection, and the next accept may well succeed.
    package var isResourceShortage: Bool {
        errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM
    }
}
