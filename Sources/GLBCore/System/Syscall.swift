import CGLBLinux
#if canImport(Glibc)
import Glibc
#endif

/// Runs a system call that returns -1 and sets errno on failure.
///
/// After swift-system's `valueOrErrno` and NIOPosix's `syscall(blocking:)`: EINTR is retried,
/// EAGAIN/EWOULDBLOCK becomes `nil` (not an error on a non-blocking descriptor), and EBADF/EFAULT
/// stop the process, because they mean a bug in GLB (a closed or wild descriptor), not a network
/// event. errno is read through C immediately after the call.
@inline(__always)
package func syscall<T: FixedWidthInteger>(_ call: String, _ body: () -> T) throws(SystemError) -> T? {
    while true {
        let result = body()
        guard result == -1 else { return result }
        let code = cglb_errno()
        switch code {
        case EINTR: continue
        case EAGAIN, EWOULDBLOCK: return nil
        case EBADF, EFAULT: preconditionFailure("\(call): errno \(code) is a bug in GLB, not a network event")
        default: throw SystemError(call: call, errno: code)
        }
    }
}

/// Closes a descriptor. EINTR is not retried: on Linux the descriptor is gone either way, and a
/// retry could close a descriptor another thread just opened (see close(2), "Dealing with error
/// returns from close()").
package func closeDescriptor(_ fd: CInt) {
    _ = cglb_close(fd)
}
