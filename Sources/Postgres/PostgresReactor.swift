#if os(Linux)
import CEpoll
import Foundation
import Glibc
import NIOConcurrencyHelpers

/// One thread that waits, with epoll, on the sockets of connections that have a statement in
/// flight, and hands each socket's readiness to its watcher.
///
/// Why: a statement run on the blocking pool costs a hand-off to a pool thread and one back
/// for every request. Sent without blocking from the task itself, the statement costs only
/// the wake of this thread when the answer arrives. `watch` adds the socket to the live
/// epoll set from the caller's thread (`epoll_ctl` needs no wake-up of the waiting thread),
/// so an idle reactor wakes once per answer, not once per statement.
///
/// A watcher runs on the reactor thread and must not block: it reads what libpq has
/// (`PQconsumeInput`), and answers whether it needs more (`.read`, `.write`) or is done.
/// A finished socket leaves the epoll set before the watcher's completion runs, so the
/// completion may at once send the connection's next statement.
final class PostgresReactor: @unchecked Sendable {
    enum Step {
        /// Wait until the socket is readable again.
        case read
        /// Wait until it is writable (unsent output) or readable.
        case write
        /// Stop watching, then run this (resumes the waiting task).
        case done(@Sendable () -> Void)
    }

    typealias Watcher = () -> Step

    private let epoll: Int32
    /// Written to make the thread look at `stopping`.
    private let wake: Int32
    private let state = NIOLockedValueBox(State())

    private struct State {
        var watchers: [Int32: Watcher] = [:]
        /// Set by `stop()`: no new watches; the thread ends when the last one is done.
        var stopping = false
        /// Set by the thread, under the lock, before it closes its descriptors: nobody
        /// touches them after that.
        var exited = false
    }

    init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wake = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epoll >= 0 && wake >= 0, "PostgresReactor: epoll_create1 or eventfd failed (errno \(errno))")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wake
        epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event)
        let thread = Thread { [self] in loop() }
        thread.name = "postgres-reactor"
        thread.start()
    }

    /// Whether `watch` would still take a socket (checked before a statement is sent, so
    /// a stopping client refuses the statement rather than leave it unread).
    var isAccepting: Bool { state.withLockedValue { !$0.stopping } }

    /// Watches `socket` until `watcher` answers `.done`. The socket must not be watched
    /// already, and must be the caller's own descriptor (a `dup` of libpq's, which libpq
    /// closes on a lost connection; another connection could then get the same number).
    /// Returns false, and never calls the watcher, when the reactor is stopping or the socket
    /// cannot be watched. Registration happens under the lock the thread's exit takes, so
    /// the epoll descriptor is never used after it is closed.
    func watch(_ socket: Int32, writing: Bool, _ watcher: @escaping Watcher) -> Bool {
        state.withLockedValue { state -> Bool in
            if state.stopping { return false }
            var event = epoll_event()
            event.events = Self.events(writing: writing)
            event.data.fd = socket
            guard epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event) == 0 else { return false }
            state.watchers[socket] = watcher
            return true
        }
    }

    /// Refuses new watches and lets the thread end once the statements in flight are answered
    /// (each is bounded by the session's statement timeout). Does not wait; safe to call
    /// more than once.
    func stop() {
        state.withLockedValue { state in
            guard !state.stopping, !state.exited else { return }
            state.stopping = true
            var one: UInt64 = 1
            _ = Glibc.write(wake, &one, MemoryLayout<UInt64>.size)
        }
    }

    private static func events(writing: Bool) -> UInt32 {
        EPOLLIN.rawValue | EPOLLONESHOT.rawValue | (writing ? EPOLLOUT.rawValue : 0)
    }

    /// A one-shot registration fired; arm it again for the next readiness.
    private func rearm(_ socket: Int32, writing: Bool) {
        var event = epoll_event()
        event.events = Self.events(writing: writing)
        event.data.fd = socket
        epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event)
    }

    private func loop() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        defer {
            close(epoll)
            close(wake)
        }
        while true {
            let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), -1) }
            if count < 0 {
                // Only EINTR can happen with a valid descriptor and buffer.
                if errno == EINTR { continue }
                preconditionFailure("PostgresReactor: epoll_wait failed (errno \(errno))")
            }
            for index in 0..<Int(count) {
                let socket = events[index].data.fd
                if socket == wake {
                    var value: UInt64 = 0
                    _ = read(wake, &value, MemoryLayout<UInt64>.size)
                    continue
                }
                guard let watcher = state.withLockedValue({ $0.watchers[socket] }) else { continue }
                switch watcher() {
                case .read:
                    rearm(socket, writing: false)
                case .write:
                    rearm(socket, writing: true)
                case .done(let completion):
                    state.withLockedValue { _ = $0.watchers.removeValue(forKey: socket) }
                    epoll_ctl(epoll, EPOLL_CTL_DEL, socket, nil)
                    completion()
                }
            }
            let exiting = state.withLockedValue { state -> Bool in
                guard state.stopping, state.watchers.isEmpty else { return false }
                state.exited = true
                return true
            }
            if exiting { return }
        }
    }
}
#endif
