#if canImport(Glibc)
import Glibc
#endif

/// A file as last seen: a change of mtime or size means "load again".
struct FileStamp: Equatable, Sendable {
    let path: String
    let mtimeNanoseconds: Int64
    let size: Int64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.path = path
        mtimeNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        size = Int64(info.st_size)
    }
}
