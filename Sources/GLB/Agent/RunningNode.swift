import GLBCore
import HealthProber
import Proxy
import Store

/// The running node as the admin API sees it (`AdminNode`): the agent's parts that answer its
/// questions, wired once in `Agent.run`.
struct RunningNode: AdminNode {
    let prober: Prober
    let monitor: HealthMonitor
    let routing: Routing
    let store: Store
    let gossip: Agent.Gossip?
    let certificateStore: CertificateStore?
    let clock: any GLBClock
    /// The agent outlives its admin API: `run` stops the API before it returns.
    unowned let agent: Agent

    func health() -> [String: TargetHealth] { prober.snapshot() }
    func verdicts() -> [String: HealthConsensus.Verdict] { monitor.verdicts(now: clock.now) }
    func configWritten() async { await routing.catchUp(with: store) }
    func members() -> [GossipMember]? { gossip?.members() }
    func certificates() -> [CertificateInfo] { certificateStore?.certificates ?? [] }
    var isReady: Bool { agent.isReady }
}
