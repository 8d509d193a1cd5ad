import ArgumentParser
import Foundation
import Logging
import PartnerCore
import Postgres
import ServiceLifecycle
import Synchronization

/// What the one-shot batch subcommands share (retention-sweep, settle-budgets,
/// deliver-webhooks --once): the job runs as a Service beside the database client in a
/// ServiceGroup, and the client closes after the job on every path. A `stoppable` job (the
/// sweep) gets SIGTERM and SIGINT as a graceful shutdown it sees through `shouldStop` (it
/// finishes its batch and returns); any other is ended by the signal, as before. A refusal
/// of the database or of a rule is one line on stderr and exit status 1; the summary can be
/// printed as JSON for scripts.
struct BatchRun {
    /// The subcommand's name: the client's application name and the start of its error lines.
    let command: String

    typealias Job<T> = @Sendable (_ client: PostgresClient, _ shouldStop: @escaping @Sendable () -> Bool) async throws -> T

    func run<T: Sendable>(
        _ database: DatabaseOptions, logger: Logger, stoppable: Bool = false, _ body: @escaping Job<T>
    ) async throws -> T {
        let client = PostgresClient(
            configuration: try database.clientConfiguration(applicationName: "partner-center \(command)"), logger: logger)
        let job = BatchJob(client: client, command: command) { client, shouldStop in
            try await Self.requireSchema(client)
            return try await body(client, shouldStop)
        }
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: client),
                .init(service: job, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            // A job that never asks `shouldStop` would only run on after the signal.
            gracefulShutdownSignals: stoppable ? [.sigterm, .sigint] : [], logger: logger))
        try await group.run()
        switch job.outcome {
        case .success(let value):
            return value
        case .failure(let error as PostgresError):
            throw failure(error.isUnavailable ? "database unreachable: \(error.message)" : "database error: \(error.message)")
        case .failure(let error as PartnerError):
            throw failure(error.message)
        case .failure(let error):
            throw error
        case nil:
            // The group returns only after the job's `run()` stored its outcome.
            throw failure("the job did not run")
        }
    }

    /// A clear message instead of a SQL error when `migrate` was never run.
    static func requireSchema(_ client: PostgresClient) async throws {
        let present: Bool = try await client.query("SELECT to_regclass('resources') IS NOT NULL").single().decode(0)
        guard present else { throw PartnerError.validation("the schema is not migrated: run `partner-center migrate` first") }
    }

    /// Writes `command: error: message` on stderr, as one line (libpq's connection messages
    /// span two); the exit status 1 to throw from `run()`.
    func failure(_ message: String) -> ExitCode {
        let line = message.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        FileHandle.standardError.write(Data("\(command): error: \(line)\n".utf8))
        return .failure
    }

    /// A summary as one JSON line: snake_case keys, sorted.
    static func printJSON<Value: Encodable>(_ value: Value) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// The job as a Service: it runs once and keeps its outcome (its error too, so the group
/// shuts down gracefully and the command reports the error in its own words, once).
private final class BatchJob<T: Sendable>: Service {
    let client: PostgresClient
    let command: String
    let body: BatchRun.Job<T>
    private let stopRequested = Atomic<Bool>(false)
    private let result = Mutex<Result<T, any Error>?>(nil)

    init(client: PostgresClient, command: String, body: @escaping BatchRun.Job<T>) {
        self.client = client
        self.command = command
        self.body = body
    }

    var outcome: Result<T, any Error>? { result.withLock { $0 } }

    func run() async {
        let outcome: Result<T, any Error>
        do {
            let value = try await withGracefulShutdownHandler {
                try await body(client) { self.stopRequested.load(ordering: .relaxed) }
            } onGracefulShutdown: {
                self.stopRequested.store(true, ordering: .relaxed)
                FileHandle.standardError.write(Data("\(self.command): stopping after the current step\n".utf8))
            }
            outcome = .success(value)
        } catch {
            outcome = .failure(error)
        }
        result.withLock { $0 = outcome }
    }
}
