#if os(Linux)
import CLibPQ
import Foundation

extension PostgresConnection {
    /// Runs one statement like `query`, without blocking the calling thread: the statement
    /// is sent from the task (the socket is non-blocking), and the task waits, suspended,
    /// for ``PostgresReactor`` to read the answer. It costs one thread wake per answer where
    /// the blocking pool costs a hand-off there and back.
    ///
    /// Prepared once per session like `query` (a first use is two round trips: prepare,
    /// then execute; three when the cache is full and its oldest statement goes first). Cancelling the task sends the server a cancel request; the statement
    /// then ends with SQLSTATE 57014 and the session is not lent out again.
    func queryWithoutBlocking(
        _ sql: String, _ parameters: [(any PostgresEncodable)?], reactor: PostgresReactor
    ) async throws -> PostgresRows {
        let handle = try openHandle()
        // A stopping reactor would refuse to read the answer of a statement already sent.
        guard reactor.isAccepting else { throw PostgresError(code: .clientClosed, message: "the client was shut down") }
        commandsSinceLease += 1
        let bound = parameters.map { $0?.postgresParameter }
        let oids = bound.map { $0?.oid ?? PostgresOID.unspecified }
        let key = PreparedStatementCache.Key(sql: sql, oids: oids)
        let name: String
        if let prepared = preparedStatements.name(for: key) {
            name = prepared
        } else {
            if let victim = preparedStatements.victim() {
                guard PQsendQuery(handle, "DEALLOCATE \(victim.name)") == 1 else {
                    throw connectionError(handle: handle, fallback: "could not send the statement")
                }
                do {
                    _ = try await answer(handle, reactor)
                } catch let error as PostgresError where error.sqlState == "26000" {
                    // Already gone on the server (a DISCARD ALL): nothing to free.
                }
                preparedStatements.remove(victim.key)
            }
            name = preparedStatements.nextName()
            let sent = oids.withUnsafeBufferPointer { types in
                PQsendPrepare(handle, name, sql, Int32(oids.count), types.baseAddress)
            }
            guard sent == 1 else { throw connectionError(handle: handle, fallback: "could not send the statement") }
            _ = try await answer(handle, reactor)
            preparedStatements.insert(key, name: name)
        }
        // libpq copies the values into its output buffer before it returns.
        let sent = withParameterArrays(bound) { values, lengths, formats in
            PQsendQueryPrepared(handle, name, Int32(bound.count), values, lengths, formats, 0)
        }
        guard sent == 1 else { throw connectionError(handle: handle, fallback: "could not send the statement") }
        return try await answer(handle, reactor)
    }

    /// Waits for the answer to the statement just sent: its rows, or the first error.
    private func answer(_ handle: OpaquePointer, _ reactor: PostgresReactor) async throws -> PostgresRows {
        let flushed = PQflush(handle)
        let socket = watchSocket
        guard flushed >= 0, socket >= 0 else {
            throw connectionError(handle: handle, fallback: "could not send the statement")
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PostgresRows, any Error>) in
                let reader = AnswerReader(connection: self, handle: handle, unsent: flushed == 1)
                let watching = reactor.watch(socket, writing: flushed == 1) { reader.step(continuation) }
                if !watching {
                    // The statement is in flight and nobody reads its answer: the session is
                    // left in `PQTRANS_ACTIVE`, so the pool closes it.
                    continuation.resume(throwing: PostgresError(code: .clientClosed, message: "the client was shut down"))
                }
            }
        } onCancel: {
            requestCancel()
        }
    }

    /// Asks the server to stop this session's statement. `PQcancel` opens a connection of its
    /// own and waits, so it runs on a thread of its own, never on the caller's.
    func requestCancel() {
        cancelRequested.withLockedValue { $0 = true }
        Thread.detachNewThread { [self] in
            cancelHandle.withLockedValue { cancel in
                guard let cancel else { return }
                var message = [CChar](repeating: 0, count: 256)
                _ = PQcancel(cancel, &message, Int32(message.count))
            }
        }
    }
}

/// Reads one statement's answer on the reactor thread, as the socket becomes ready: sends
/// what is left unsent, consumes input, and collects results until libpq has no more.
private final class AnswerReader {
    let connection: PostgresConnection
    let handle: OpaquePointer
    var unsent: Bool
    var outcome: Result<PostgresRows, any Error>?

    init(connection: PostgresConnection, handle: OpaquePointer, unsent: Bool) {
        self.connection = connection
        self.handle = handle
        self.unsent = unsent
    }

    func step(_ continuation: CheckedContinuation<PostgresRows, any Error>) -> PostgresReactor.Step {
        func finish(_ outcome: Result<PostgresRows, any Error>) -> PostgresReactor.Step {
            .done { continuation.resume(with: outcome) }
        }
        guard PQconsumeInput(handle) == 1 else {
            return finish(.failure(connection.connectionError(handle: handle, fallback: "the connection was lost")))
        }
        if unsent {
            switch PQflush(handle) {
            case 0: unsent = false
            case 1: return .write
            default: return finish(.failure(connection.connectionError(handle: handle, fallback: "could not send the statement")))
            }
        }
        while PQisBusy(handle) == 0 {
            guard let result = PQgetResult(handle) else {
                return finish(outcome ?? .success(PostgresRows(columns: [], cells: [], affectedRows: 0)))
            }
            let next = Result { try connection.consume(result, handle: handle) }
            // The first error wins over rows; otherwise the first result's rows.
            switch (outcome, next) {
            case (nil, _), (.success, .failure): outcome = next
            default: break
            }
        }
        return .read
    }
}
#endif
