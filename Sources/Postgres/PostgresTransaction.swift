/// Transaction isolation levels, as written after `BEGIN ISOLATION LEVEL`.
public enum IsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension PostgresConnection {
    /// Runs `body` inside one transaction on this connection: commits when it returns,
    /// rolls back when it throws. Errors say which step failed. No retry here; the client
    /// retries whole transactions because only it can hand out a fresh connection.
    public func withTransaction<T>(
        isolation: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        let mode = readOnly ? " READ ONLY" : ""
        do {
            _ = try simpleCommand("BEGIN ISOLATION LEVEL \(isolation.rawValue)\(mode)")
        } catch var error as PostgresError {
            error.transactionStep = .begin
            throw error
        }
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackQuietly()
            if var postgresError = error as? PostgresError {
                postgresError.transactionStep = postgresError.transactionStep ?? .body
                throw postgresError
            }
            throw error
        }
        let tag: String
        do {
            tag = try simpleCommand("COMMIT")
        } catch var error as PostgresError {
            error.transactionStep = .commit
            throw error
        }
        // A COMMIT of a failed transaction answers ROLLBACK without an error.
        guard tag == "COMMIT" else {
            var error = PostgresError(code: .server, message: "the transaction was rolled back at commit")
            error.transactionStep = .commit
            throw error
        }
        return value
    }

    /// Rolls back after a failure in the body; a broken connection is left for the pool to
    /// discard, so a failed rollback is not reported over the original error.
    private func rollbackQuietly() {
        _ = try? simpleCommand("ROLLBACK")
    }
}
