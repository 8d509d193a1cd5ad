#if os(Linux)
extension PostgresClient {
    /// `query` without the blocking pool: a pooled connection sends the statement from the
    /// calling task and the reactor reads the answer (TLS sessions excepted, see
    /// `PostgresConnection.usesTLS`). Connecting still happens on the blocking pool (libpq
    /// connects blocking), and so does closing a session that cannot go back. The pool's
    /// rules are `withConnection`'s: a reused session that dies on its first statement ran
    /// nothing, so the statement is tried once more on a fresh one.
    func queryWithoutBlocking(_ sql: String, _ parameters: [(any PostgresEncodable)?]) async throws -> PostgresRows {
        var attempt = 0
        while true {
            attempt += 1
            let lease = try await acquire()
            let connection: PostgresConnection
            switch lease {
            case .reuse(let existing):
                connection = existing
            case .create:
                do {
                    connection = try await connectOnPool()
                } catch {
                    await release(nil, connectionLost: false)
                    throw error
                }
            }
            connection.commandsSinceLease = 0
            let result: Result<PostgresRows, any Error>
            if connection.usesTLS || connection.watchSocket < 0 {
                result = await queryOnPool(connection, sql, parameters)
            } else {
                do {
                    result = .success(try await connection.queryWithoutBlocking(sql, parameters, reactor: reactor))
                } catch {
                    result = .failure(error)
                }
            }
            if connection.isReusable {
                await release(connection, connectionLost: false)
                return try result.get()
            }
            // Only a lost session says the idle ones are likely dead too; a cancelled one
            // (or one left mid-statement at shutdown) does not.
            let lost = !connection.isOpen
            let staleFirstCommand = lease.diedBeforeRunning(connection, result)
            await closeOnPool(connection)
            await release(nil, connectionLost: lease.isReused && lost)
            if staleFirstCommand && attempt == 1 {
                logger.debug("retrying on a fresh connection after a stale one failed its first statement")
                continue
            }
            return try result.get()
        }
    }

    /// The statement on the blocking pool, for a session the reactor does not read (TLS).
    private func queryOnPool(
        _ connection: PostgresConnection, _ sql: String, _ parameters: [(any PostgresEncodable)?]
    ) async -> Result<PostgresRows, any Error> {
        do {
            return try await threadPool.runIfActive { Result { try connection.query(sql, parameters) } }
        } catch {
            return .failure(PostgresError(code: .clientClosed, message: "the client was shut down"))
        }
    }

    private func connectOnPool() async throws -> PostgresConnection {
        let configuration = self.configuration.connection
        let logger = self.logger
        let outcome: Result<PostgresConnection, any Error>
        do {
            outcome = try await threadPool.runIfActive {
                Result { try PostgresConnection.connect(configuration) }
            }
        } catch {
            throw PostgresError(code: .clientClosed, message: "the client was shut down")
        }
        if case .failure(let error) = outcome {
            logger.warning("database connection failed", metadata: ["error": "\(error)"])
        }
        return try outcome.get()
    }

    private func closeOnPool(_ connection: PostgresConnection) async {
        do {
            try await threadPool.runIfActive { connection.close() }
        } catch {
            connection.close()
        }
    }
}
#endif
