import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A bounded pool of libpq connections, usable from async code.
///
/// libpq blocks, so every call into it runs on the client's own `NIOThreadPool` (one thread
/// per connection), never on the Swift concurrency pool. A unit of work — a closure given a
/// connection — runs as one hop to that pool: a whole transaction costs one thread switch.
///
/// Broken connections (server restart, `pg_terminate_backend`) are discarded and replaced on
/// demand; when the first statement on a reused connection finds it dead, nothing ran, so
/// the work is retried once on a fresh connection. While the database is down, work fails
/// with an error whose `isUnavailable` is true, and the pool recovers by itself.
///
/// A `Service`: `run()` waits for graceful shutdown, then closes every connection.
public final class PostgresClient: Service, Sendable {
    public struct Configuration: Sendable {
        public var connection: PostgresConfiguration
        /// Most connections open at once (and threads in the blocking pool).
        public var maximumConnections: Int
        /// How long work waits for a free connection before failing with `.poolTimeout`.
        public var acquireTimeout: Duration

        public init(connection: PostgresConfiguration, maximumConnections: Int = 8, acquireTimeout: Duration = .seconds(5)) {
            self.connection = connection
            self.maximumConnections = max(1, maximumConnections)
            self.acquireTimeout = acquireTimeout
        }
    }

    /// A snapshot of the pool, for metrics.
    public struct Statistics: Sendable, Equatable {
        public var open: Int
        public var idle: Int
        public var leased: Int
        public var waiting: Int
    }

    public let configuration: Configuration
    let logger: Logger
    let threadPool: NIOThreadPool
    #if os(Linux)
    /// Waits on the sockets of statements sent without blocking (`query`).
    let reactor = PostgresReactor()
    #endif
    private let eventLoop: any EventLoop
    private let state: NIOLockedValueBox<PoolState>

    public init(configuration: Configuration, logger: Logger = Logger(label: "postgres")) {
        self.configuration = configuration
        self.logger = logger
        self.threadPool = NIOThreadPool(numberOfThreads: configuration.maximumConnections)
        self.threadPool.start()
        self.eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        self.state = NIOLockedValueBox(PoolState())
    }

    // MARK: Service

    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Fails waiting work, closes idle connections and stops the blocking pool. Connections
    /// still lent out are closed as they come back.
    public func shutdown() async {
        let (idle, waiters) = state.withLockedValue { state in
            state.closed = true
            let idle = state.idle
            state.open -= idle.count
            state.idle = []
            let waiters = state.waiters
            state.waiters = []
            state.timeoutTimer?.cancel()
            state.timeoutTimer = nil
            return (idle, waiters)
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: PostgresError(code: .clientClosed, message: "the client was shut down"))
        }
        try? await threadPool.runIfActive { idle.forEach { $0.close() } }
        try? await threadPool.shutdownGracefully()
        #if os(Linux)
        reactor.stop()
        #endif
    }

    // MARK: Work

    /// Runs `body` with a pooled connection on the blocking pool.
    @discardableResult
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            let lease = try await acquire()
            let (result, returned, staleFirstCommand) = await run(lease, body)
            await release(returned, connectionLost: returned == nil && lease.isReused)
            if staleFirstCommand && attempt == 1 {
                logger.debug("retrying on a fresh connection after a stale one failed its first statement")
                continue
            }
            return try result.get()
        }
    }

    /// Runs `body` in one transaction and retries the whole closure, a bounded number of
    /// times, when the server aborts it for a serialization failure or a deadlock.
    @discardableResult
    public func withTransaction<T: Sendable>(
        isolation: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        maxAttempts: Int = 5,
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await withConnection { connection in
                    try connection.withTransaction(isolation: isolation, readOnly: readOnly, body)
                }
            } catch let error as PostgresError where error.isTransient && attempt < maxAttempts {
                logger.debug("transaction retry", metadata: ["attempt": "\(attempt)", "sqlState": "\(error.sqlState ?? "")"])
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
            }
        }
    }

    /// One statement outside an explicit transaction. On Linux it is sent without blocking
    /// and its answer read by the reactor (`queryWithoutBlocking`), with no hop to the
    /// blocking pool.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresRows {
        #if os(Linux)
        return try await queryWithoutBlocking(sql, parameters)
        #else
        return try await withConnection { try $0.query(sql, parameters) }
        #endif
    }

    /// Whether the database answers now (for `/readyz`).
    public func isReady() async -> Bool {
        do {
            _ = try await query("SELECT 1")
            return true
        } catch {
            return false
        }
    }

    public var statistics: Statistics {
        state.withLockedValue {
            Statistics(open: $0.open, idle: $0.idle.count, leased: $0.leased, waiting: $0.waiters.count)
        }
    }

    // MARK: Pool internals

    enum Lease: Sendable {
        case reuse(PostgresConnection)
        case create

        var isReused: Bool {
            if case .reuse = self { return true }
            return false
        }

        /// Whether a reused connection died on its very first statement: the server had
        /// closed it while it sat idle, nothing ran, and the work may be retried on a fresh one.
        func diedBeforeRunning<T>(_ connection: PostgresConnection, _ result: Result<T, any Error>) -> Bool {
            guard isReused, connection.commandsSinceLease == 1,
                case .failure(let error as PostgresError) = result
            else { return false }
            return error.code == .connectionLost
        }
    }

    private struct Waiter {
        var continuation: CheckedContinuation<Lease, any Error>
        var deadline: NIODeadline
    }

    private struct PoolState {
        var idle: [PostgresConnection] = []
        var open = 0
        var leased = 0
        /// In arrival order. All wait `acquireTimeout`, so their deadlines are in order too.
        var waiters: [Waiter] = []
        /// The queue's one timeout timer, armed while anyone waits, for the oldest waiter's
        /// deadline. A timer per waiter meant two cross-thread calls into the event loop
        /// (schedule, then cancel) for every request that queued: at 16 HTTP connections on
        /// a pool of 8, half of them.
        var timeoutTimer: Scheduled<Void>?
        var closed = false
    }

    private enum AcquireStep {
        case lease(Lease)
        case fail
        case wait
    }

    /// A free connection (or slot) without suspending when there is one: a continuation
    /// resumed at once still suspends the task and queues it on the executor again, which
    /// cost every statement a trip through the global executor's queue.
    func acquire() async throws -> Lease {
        let maximum = configuration.maximumConnections
        switch state.withLockedValue({ Self.takeFree(&$0, maximum: maximum) }) {
        case .lease(let lease): return lease
        case .fail: throw PostgresError(code: .clientClosed, message: "the client was shut down")
        case .wait: break
        }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
            let step = state.withLockedValue { state -> AcquireStep in
                // Checked again: a connection may have come back since.
                let free = Self.takeFree(&state, maximum: maximum)
                guard case .wait = free else { return free }
                let deadline = NIODeadline.now() + .nanoseconds(configuration.acquireTimeout.nanoseconds)
                state.waiters.append(Waiter(continuation: continuation, deadline: deadline))
                if state.timeoutTimer == nil { state.timeoutTimer = armTimeoutTimer(at: deadline) }
                return .wait
            }
            switch step {
            case .lease(let lease):
                continuation.resume(returning: lease)
            case .fail:
                continuation.resume(throwing: PostgresError(code: .clientClosed, message: "the client was shut down"))
            case .wait:
                break
            }
        }
    }

    /// An idle connection, or a slot to open one, or `.wait` when the pool is full.
    private static func takeFree(_ state: inout PoolState, maximum: Int) -> AcquireStep {
        if state.closed { return .fail }
        if let connection = state.idle.popLast() {
            state.leased += 1
            return .lease(.reuse(connection))
        }
        if state.open < maximum {
            state.open += 1
            state.leased += 1
            return .lease(.create)
        }
        return .wait
    }

    private func armTimeoutTimer(at deadline: NIODeadline) -> Scheduled<Void> {
        eventLoop.scheduleTask(deadline: deadline) { self.expireWaiters() }
    }

    /// Fails the waiters whose time is up, then re-arms the timer for the oldest one left.
    private func expireWaiters() {
        let now = NIODeadline.now()
        let expired = state.withLockedValue { state -> [Waiter] in
            let overdue = Array(state.waiters.prefix { $0.deadline <= now })
            state.waiters.removeFirst(overdue.count)
            if let next = state.waiters.first, !state.closed {
                state.timeoutTimer = armTimeoutTimer(at: next.deadline)
            } else {
                state.timeoutTimer = nil
            }
            return overdue
        }
        for waiter in expired {
            waiter.continuation.resume(
                throwing: PostgresError(code: .poolTimeout, message: "no database connection became free in time"))
        }
    }

    /// Connects if needed and runs the body on the blocking pool. Returns the body's result,
    /// the connection if it can go back to the pool, and whether a reused connection died on
    /// its very first statement (so nothing ran and a retry is safe).
    private func run<T: Sendable>(
        _ lease: Lease, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async -> (Result<T, any Error>, PostgresConnection?, Bool) {
        let configuration = self.configuration.connection
        let logger = self.logger
        do {
            return try await threadPool.runIfActive { () -> (Result<T, any Error>, PostgresConnection?, Bool) in
                let connection: PostgresConnection
                switch lease {
                case .reuse(let existing):
                    connection = existing
                case .create:
                    do {
                        connection = try PostgresConnection.connect(configuration)
                    } catch {
                        logger.warning("database connection failed", metadata: ["error": "\(error)"])
                        return (.failure(error), nil, false)
                    }
                }
                connection.commandsSinceLease = 0
                let result = Result { try body(connection) }
                if connection.isReusable { return (result, connection, false) }
                connection.close()
                return (result, nil, lease.diedBeforeRunning(connection, result))
            }
        } catch {
            // The blocking pool is shut down; the leased connection is dropped with it.
            if case .reuse(let connection) = lease { connection.close() }
            return (.failure(PostgresError(code: .clientClosed, message: "the client was shut down")), nil, false)
        }
    }

    private enum ReleaseStep {
        case none
        case hand(Waiter, Lease)
    }

    /// Returns a connection (or, with `nil`, its slot) to the pool. After a lost connection the
    /// idle ones are presumed dead too (the server most likely restarted) and are closed.
    func release(_ connection: PostgresConnection?, connectionLost: Bool) async {
        let (step, stale) = state.withLockedValue { state -> (ReleaseStep, [PostgresConnection]) in
            state.leased -= 1
            var stale: [PostgresConnection] = []
            if connectionLost {
                stale = state.idle
                state.idle = []
                state.open -= stale.count
            }
            guard let connection, !state.closed else {
                if let connection { stale.append(connection) }
                state.open -= 1
                if !state.closed, !state.waiters.isEmpty {
                    state.open += 1
                    state.leased += 1
                    return (.hand(state.waiters.removeFirst(), .create), stale)
                }
                return (.none, stale)
            }
            if !state.waiters.isEmpty {
                state.leased += 1
                return (.hand(state.waiters.removeFirst(), .reuse(connection)), stale)
            }
            state.idle.append(connection)
            return (.none, stale)
        }
        if case .hand(let waiter, let lease) = step {
            waiter.continuation.resume(returning: lease)
        }
        if !stale.isEmpty {
            do {
                try await threadPool.runIfActive { stale.forEach { $0.close() } }
            } catch {
                stale.forEach { $0.close() }
            }
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
