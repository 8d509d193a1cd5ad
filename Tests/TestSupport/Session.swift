import Dispatch
import Foundation
import Postgres

/// One database session of its own (the test database's admin role), for what a pool cannot
/// do: hold a transaction open across steps, `SET ROLE`, or play a rival writer in a race.
///
/// libpq blocks, so every call runs on the session's own serial queue, never on the Swift
/// concurrency pool: a session waiting for a lock cannot starve the tasks it is racing.
public final class Session: @unchecked Sendable {
    private let connection: PostgresConnection
    private let queue: DispatchQueue

    public init(_ database: TestDatabase) throws {
        connection = try database.connect()
        queue = DispatchQueue(label: "test-session-\(connection.backendPID)")
    }

    public var backendPID: Int32 { connection.backendPID }

    /// Runs `body` on the session's queue (serially, in call order).
    public func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body(self.connection) }) }
        }
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresRows {
        try await run { try $0.query(sql, parameters) }
    }

    /// SQL text without parameters: transaction control, `SET ROLE`, several statements.
    public func simple(_ sql: String) async throws {
        try await run { try $0.simpleQuery(sql) }
    }

    public func close() async {
        _ = try? await run { $0.close() }
    }
}

/// Waits until backend `pid` is blocked on a lock (seen from `client`), so a race can be
/// staged step by step instead of hoped for.
public func waitUntilBlockedOnLock(pid: Int32, _ client: PostgresClient, timeout: Duration = .seconds(10)) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        let waiting: Bool = try await client.query(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock')", [Int(pid)]
        ).single().decode(0)
        if waiting { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw StagingError("backend \(pid) never blocked on a lock within \(timeout)")
}

/// Waits until some backend of this database other than `except` is blocked on a lock,
/// and returns its pid.
public func waitForBlockedBackend(except: [Int32], _ client: PostgresClient, timeout: Duration = .seconds(10)) async throws -> Int32 {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        let rows = try await client.query("""
            SELECT pid FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND NOT (pid = ANY ($1))
            """, [except.map { Int($0) }])
        if let row = rows.first { return Int32(try row.decode(0, as: Int.self)) }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw StagingError("no backend blocked on a lock within \(timeout)")
}

public struct StagingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
