// swift-tools-version:6.0
// GLB: a multi-cluster global load balancer. No package dependencies by design: only the
// toolchain, and the system C libraries SQLite and OpenSSL through module maps.
// Dependencies point one way: GLBCore <- Store, HealthProber, Proxy <- GLB.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// The data plane's targets skip the dynamic exclusivity checks in release builds (see Proxy).
let uncheckedExclusivity: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "glb",
    products: [.executable(name: "glb", targets: ["GLB"])],
    targets: [
        // C: epoll, eventfd, timerfd and the GNU-only calls Swift's Glibc module hides.
        .target(name: "CGLBLinux", path: "Sources/CGLBLinux"),
        .systemLibrary(name: "CGLBSQLite", path: "Sources/CGLBSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CGLBOpenSSL", path: "Sources/CGLBOpenSSL", providers: [.apt(["libssl-dev"])]),

        // The shared runtime: clock, syscalls, event loops, buffers, HTTP/1 codec, metrics, logging.
        // Like Proxy below, release builds skip the dynamic exclusivity checks: the event loop's
        // tick made eight per wake-up (callgrind, DNS under load).
        .target(name: "GLBCore", dependencies: ["CGLBLinux", "CGLBOpenSSL"], swiftSettings: strict + uncheckedExclusivity),
        .target(name: "Store", dependencies: ["GLBCore", "CGLBSQLite"], swiftSettings: strict),
        .target(name: "HealthProber", dependencies: ["GLBCore", "CGLBOpenSSL"], swiftSettings: strict),
        // Release builds skip the dynamic exclusivity checks in the data plane: ~80 per request
        // (every inout access to a connection's buffers and parser), ~6.5k instructions, 14% of
        // the proxy's user-space cost (callgrind). Debug builds, and so the tests, keep them.
        .target(name: "Proxy", dependencies: ["GLBCore", "CGLBLinux", "CGLBOpenSSL"],
                swiftSettings: strict + uncheckedExclusivity),
        .executableTarget(name: "GLB", dependencies: ["GLBCore", "Store", "HealthProber", "Proxy"], swiftSettings: strict),

        // Test-only: interposes malloc to count allocations per thread (allocation-free query path).
        .target(name: "CGLBAllocCounter", path: "Tests/CGLBAllocCounter"),
        .target(name: "GLBTestSupport", dependencies: ["GLBCore"], path: "Tests/GLBTestSupport", swiftSettings: strict),
        .testTarget(name: "GLBCoreTests", dependencies: ["GLBCore", "GLBTestSupport"], swiftSettings: strict),
        .testTarget(name: "StoreTests", dependencies: ["Store", "GLBTestSupport"], swiftSettings: strict),
        .testTarget(name: "HealthProberTests", dependencies: ["HealthProber", "GLBTestSupport"], swiftSettings: strict),
        .testTarget(name: "ProxyTests", dependencies: ["Proxy", "GLBTestSupport", "CGLBAllocCounter"], swiftSettings: strict),
        .testTarget(name: "GLBTests", dependencies: ["GLB", "Store", "GLBTestSupport"], swiftSettings: strict),
    ]
)
