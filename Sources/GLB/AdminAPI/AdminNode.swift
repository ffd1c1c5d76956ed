import HealthProber
import Proxy

/// What the admin API may read of the running node and tell it, beside the store it writes to:
/// one typed surface instead of a closure per question, so a reader sees at a glance what the
/// API can reach, and a test can stand in for the node with a struct of canned answers.
protocol AdminNode: Sendable {
    /// What this node's own probes know now, by target id (`service/cluster`).
    func health() -> [String: TargetHealth]
    /// The quorum's votes per target, from this node's and its peers' observations.
    func verdicts() -> [String: HealthConsensus.Verdict]
    /// A write committed: compile and publish the routing snapshot before the API answers, so
    /// the client's next query or request sees it (read-your-writes).
    func configWritten() async
    /// The gossip members this node sees, itself first; nil when gossip is off.
    func members() -> [GossipMember]?
    /// The TLS certificates the proxy serves; empty without --https.
    func certificates() -> [CertificateInfo]
    /// True once every listener is up; /readyz answers 503 until then and while stopping.
    var isReady: Bool { get }
}
