import Foundation
import GLBCore
import Testing
@testable import GLB

/// The container image and the Kubernetes manifests in deploy/ stay in step with the agent's
/// options: every GLB_* setting they make is one the agent reads, and together they make a
/// configuration the agent accepts (a renamed flag fails here, not in a region at 3 a.m.).
/// `deploy/kubernetes/check.py` checks the rendered overlays further, with kubectl.
@Suite struct DeployManifestTests {
    static let known = Set(AgentConfig.options.compactMap(\.environment) + [AgentConfig.gossipKeyVariable])

    static func file(_ path: String) throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("deploy/\(path)"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// `KEY: value` lines under a ConfigMap's `data:` (values unquoted).
    static func configMapData(_ lines: [String]) -> [String: String] {
        var data: [String: String] = [:]
        var inData = false
        for line in lines {
            if line.hasPrefix("data:") { inData = true; continue }
            guard inData else { continue }
            if !line.hasPrefix(" ") && !line.isEmpty { inData = false; continue }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let colon = trimmed.firstIndex(of: ":") else { continue }
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            data[String(trimmed[..<colon])] = value.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return data
    }

    /// `- GLB_X=value` literals of an overlay's configMapGenerator.
    static func literals(_ lines: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("- GLB_") else { continue }
            let parts = trimmed.dropFirst(2).split(separator: "=", maxSplits: 1).map(String.init)
            out[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return out
    }

    @Test func theContainerImageDefaultsMakeAConfigurationTheAgentAccepts() throws {
        let lines = try Self.file("Containerfile")
        var env: [String: String] = [:]
        for line in lines where !line.hasPrefix("#") {
            for word in line.split(separator: " ") where word.hasPrefix("GLB_") && word.contains("=") {
                let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
                env[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
        }
        #expect(!env.isEmpty, "the Containerfile sets GLB_* defaults with ENV")
        for name in env.keys { #expect(Self.known.contains(name), "Containerfile: \(name) is not a variable glb agent reads") }
        let config = try AgentConfigTests.config([], env: env)
        #expect(config.dataDirectory == "/var/lib/glb", "the store lives on the image's volume")
        #expect(lines.contains("VOLUME [\"/var/lib/glb\"]"))
        #expect(config.dns?.port == 5353, "DNS on an unprivileged port for the non-root user")
        #expect(config.admin.ip.isLoopback, "the image keeps the admin API on loopback")
        #expect(lines.contains("ENTRYPOINT [\"glb\", \"agent\"]"))
        #expect(lines.contains { $0.hasPrefix("USER 10001") }, "a numeric non-root user, for runAsNonRoot")
    }

    @Test(arguments: ["eu-west", "us-east"])
    func eachKubernetesRegionMakesAConfigurationTheAgentAccepts(_ region: String) throws {
        var env = Self.configMapData(try Self.file("kubernetes/base/configmap.yaml"))
        let overlay = Self.literals(try Self.file("kubernetes/overlays/\(region)/kustomization.yaml"))
        env.merge(overlay) { _, new in new }
        for name in env.keys { #expect(Self.known.contains(name), "\(region): \(name) is not a variable glb agent reads") }
        #expect(env["GLB_REGION"] == region)
        // What the StatefulSet adds: the pod IP for gossip, the two Secrets.
        env["GLB_GOSSIP"] = "10.0.0.7:7946"
        env["GLB_ADMIN_TOKEN"] = AgentConfigTests.token
        env["GLB_GOSSIP_KEY"] = AgentConfigTests.key
        let config = try AgentConfigTests.config([], env: env)
        #expect(config.dataDirectory == "/var/lib/glb")
        #expect(config.dns?.port == 5353, "the glb-dns Service maps 53 to 5353")
        #expect(config.admin.port == 9090 && !config.admin.ip.isLoopback, "probes and the ClusterIP reach the admin API")
        #expect(!config.join.isEmpty, "each region joins the others")
        #expect(config.advertise != nil, "proxy-mode answers need the region's public address")

        let statefulSet = try Self.file("kubernetes/base/statefulset.yaml")
        let grace = try #require(statefulSet.lazy.compactMap { line -> Int? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("terminationGracePeriodSeconds:") else { return nil }
            return Int(trimmed.dropFirst("terminationGracePeriodSeconds:".count).trimmingCharacters(in: .whitespaces))
        }.first)
        #expect(Duration.seconds(grace) > config.shutdownGrace, "Kubernetes must not kill the agent while it drains")
    }

    @Test func theOverlaysNameDifferentNodes() throws {
        let nodes = try ["eu-west", "us-east"].map { Self.literals(try Self.file("kubernetes/overlays/\($0)/kustomization.yaml"))["GLB_NODE"] }
        #expect(nodes.allSatisfy { $0 != nil })
        #expect(Set(nodes).count == nodes.count, "gossip needs every node name to be unique")
    }
}
