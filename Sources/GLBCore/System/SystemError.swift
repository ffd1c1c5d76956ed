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
}
