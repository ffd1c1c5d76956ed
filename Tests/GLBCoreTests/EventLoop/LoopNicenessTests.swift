import CGLBLinux
import GLBCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A group's niceness applies to its loops' threads only: the control loop yields the CPU to
/// the data-plane loops, which keep the process's own priority.
@Suite struct LoopNicenessTests {
    static func niceness(on loop: EventLoop) async -> CInt {
        await withCheckedContinuation { (done: CheckedContinuation<CInt, Never>) in
            loop.execute { done.resume(returning: getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(cglb_gettid()))) }
        }
    }

    @Test func aGroupsNicenessIsItsThreadsAndNoOneElses() async throws {
        let process = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let control = try EventLoopGroup(count: 1, name: "nice-test", niceness: 10)
        let data = try EventLoopGroup(count: 1, name: "plain-test")
        control.start(); data.start()
        defer { control.shutdown(); data.shutdown() }
        #expect(await Self.niceness(on: control.loops[0]) == min(19, process + 10))
        #expect(await Self.niceness(on: data.loops[0]) == process)
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == process, "the process itself is untouched")
    }
}
