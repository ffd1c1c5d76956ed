/// Bounds on what one HTTP/1.1 message may make the parser hold or scan. Each limit maps to the
/// status a server answers with when a peer exceeds it (see `HTTPParseError.status`).
package struct HTTPLimits: Sendable, Hashable {
    /// Longest request line including CRLF; longer is 414 URI Too Long (RFC 9112 §3).
    package var maxRequestLineBytes: Int
    /// Longest head (start line, fields, final CRLF); longer is 431 (RFC 6585 §5).
    package var maxHeadBytes: Int
    /// Most header fields in one head; more is 431.
    package var maxHeaderCount: Int
    /// Longest chunk extension on one chunk-size line (RFC 9112 §7.1.1: extensions are ignored,
    /// but a recipient must bound them).
    package var maxChunkExtensionBytes: Int
    /// Largest trailer section in bytes (RFC 9112 §7.1.2); trailers are parsed and dropped.
    package var maxTrailerBytes: Int
    /// Most trailer fields.
    package var maxTrailerCount: Int
    /// Largest body, from Content-Length or the sum of chunk sizes; larger is 413. A proxy that
    /// streams bodies may leave it at `Int.max`.
    package var maxBodyBytes: Int

    /// The defaults: 8 KiB request line, 32 KiB head, 100 fields, 1 KiB chunk extensions,
    /// 8 KiB / 32 trailer fields, no body limit.
    package init(
        maxRequestLineBytes: Int = 8 * 1024,
        maxHeadBytes: Int = 32 * 1024,
        maxHeaderCount: Int = 100,
        maxChunkExtensionBytes: Int = 1024,
        maxTrailerBytes: Int = 8 * 1024,
        maxTrailerCount: Int = 32,
        maxBodyBytes: Int = .max
    ) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxChunkExtensionBytes = maxChunkExtensionBytes
        self.maxTrailerBytes = maxTrailerBytes
        self.maxTrailerCount = maxTrailerCount
        self.maxBodyBytes = maxBodyBytes
    }
}
