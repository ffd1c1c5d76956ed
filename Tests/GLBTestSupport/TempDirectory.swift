import Foundation

/// A fresh directory under the system's temporary directory, removed by `remove()`.
/// Each store test gets its own, so tests never share a database file.
package struct TempDirectory: Sendable {
    package let path: String

    package init(prefix: String = "glb-test") throws {
        let base = FileManager.default.temporaryDirectory.path
        let path = "\(base)/\(prefix)-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    /// `path/name`.
    package func file(_ name: String) -> String { "\(path)/\(name)" }

    package func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
