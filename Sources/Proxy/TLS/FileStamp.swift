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
        // Saturating: a file stamped past the year 2262 must not trap the watcher (it only needs
        // to notice a change, and nanoseconds still differ wherever they fit).
        let (scaled, overflow) = Int64(info.st_mtim.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        mtimeNanoseconds = overflow ? (info.st_mtim.tv_sec < 0 ? .min : .max) : scaled.addingReportingOverflow(Int64(info.st_mtim.tv_nsec)).partialValue
        size = Int64(info.st_size)
    }
}
