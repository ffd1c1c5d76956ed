#if canImport(Glibc)
import Glibc
#endif

/// An exclusive hold on a data directory for the agent's lifetime: `DIR/glb.lock`, locked with
/// flock(2) and holding the owner's pid. Two agents on one store would each cache, compile and
/// replicate their own view of it and overwrite each other's clock; the second is refused at
/// start instead. The kernel drops the lock when the process dies, however it dies, so a
/// `kill -9` leaves nothing to clean up (the file stays; only the lock matters).
final class DataDirectoryLock {
    let path: String
    private var descriptor: CInt

    /// Takes the lock, or explains who holds it.
    init(directory: String) throws(AgentError) {
        path = directory + "/glb.lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw AgentError("--data: cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.readPID(descriptor)
            close(descriptor)
            if code == EWOULDBLOCK {
                throw AgentError("--data \(directory): another glb agent\(holder.map { " (pid \($0))" } ?? "") is using this data directory; stop it or give this one its own --data")
            }
            throw AgentError("--data: cannot lock \(path): \(String(cString: strerror(code)))")
        }
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) == 0 {
            _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        }
    }

    /// Lets go of the directory (also done by the kernel at exit).
    func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }

    private static func readPID(_ fd: CInt) -> Int? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int(String(decoding: bytes[..<count], as: UTF8.self).filter(\.isNumber))
    }
}
