import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// DESIGN §7 "Crash", at test scale: the real `partner-center retention-sweep` process is
/// killed with SIGKILL mid-run five times, then run to completion. Each batch is one
/// transaction, so the end state must equal an uninterrupted run: every due resource
/// released exactly once with one audit event, nothing else touched.
@Suite("Retention sweep: killed mid-run", .serialized)
struct SweepCrashTests {
    /// `PARTNER_CENTER_BIN` (Scripts/test sets it), else the package's debug build.
    static func executable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["PARTNER_CENTER_BIN"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw StagingError("PARTNER_CENTER_BIN=\(path) is not an executable file")
            }
            return URL(fileURLWithPath: path)
        }
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let built = root.appendingPathComponent(".build/debug/partner-center")
        guard FileManager.default.isExecutableFile(atPath: built.path) else {
            throw StagingError(
                "no partner-center executable at \(built.path): run `swift build --product partner-center` or Scripts/test (which sets PARTNER_CENTER_BIN)")
        }
        return built
    }

    /// Starts `partner-center retention-sweep --batch-size 50` (and `options`) on `database`;
    /// its output goes to the pipes given, else nowhere.
    static func startSweeper(
        _ database: TestDatabase, options: [String] = [], output: Pipe? = nil, errors: Pipe? = nil
    ) throws -> (Process, exited: AsyncStream<Void>) {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = ["retention-sweep", "--batch-size", "50"] + options
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = database.url
        process.environment = environment
        process.standardOutput = output ?? FileHandle.nullDevice
        process.standardError = errors ?? FileHandle.nullDevice
        let (exited, continuation) = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in
            continuation.yield()
            continuation.finish()
        }
        try process.run()
        return (process, exited)
    }

    static func released(_ client: PostgresClient) async throws -> Int {
        try await client.int("SELECT count(*) FROM resources WHERE state = 'released'")
    }

    /// Waits until no session of a killed sweeper is left: the server ends one when it finds
    /// its client gone, rolling back its open batch. Until then its rows stay locked, and a
    /// new sweeper would (rightly) skip them.
    static func waitForSweeperSessionsToEnd(_ client: PostgresClient) async throws {
        for _ in 0..<1000 {
            let sessions = try await client.int(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'partner-center retention-sweep'")
            if sessions == 0 { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw StagingError("a killed sweeper's session did not end within 10 s")
    }

    @Test func aSweeperKilledAtRandomPointsReleasesEveryDueResourceExactlyOnce() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let due = try await world.tenant(retentionSeconds: 0, payPerUse: 10_000, prepaid: 3, dataBytes: 32)
            let retained = try await world.tenant(retentionSeconds: 86_400, payPerUse: 20, prepaid: 2, dataBytes: 32)
            _ = try await world.freeze(due)
            _ = try await world.freeze(retained)

            var kills = 0
            while kills < 5 {
                let before = try await Self.released(client)
                guard before < 10_000 else {
                    Issue.record("the sweep finished after \(kills) kills; give it more rows so that five kills land mid-run")
                    break
                }
                let (process, exited) = try Self.startSweeper(database)
                // Mid-run: once it has released something, at a random point of a later batch.
                while try await Self.released(client) == before, process.isRunning {
                    try await Task.sleep(for: .milliseconds(2))
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...40)))
                kill(process.processIdentifier, SIGKILL)
                for await _ in exited {}
                if process.terminationReason == .uncaughtSignal {
                    #expect(process.terminationStatus == SIGKILL)
                    kills += 1
                } else if process.terminationStatus != 0 {
                    Issue.record("the sweeper failed on its own with exit status \(process.terminationStatus)")
                    break
                }
                try await Self.waitForSweeperSessionsToEnd(client)
                try await assertInvariants(client)
            }
            #expect(kills == 5)
            #expect(try await Self.released(client) < 10_000, "the kills left work for the final run")

            // The final run goes to completion.
            let (process, exited) = try Self.startSweeper(database)
            for await _ in exited {}
            #expect(process.terminationReason == .exit)
            #expect(process.terminationStatus == 0)

            // Every due resource released exactly once, with its one audit event and outbox mention.
            let ledger = try await RetentionSweepTests.releaseLedger(client)
            #expect(ledger == (10_000, 10_000, 10_000, 10_000))
            #expect(try await client.states(of: due, .payPerUse) == ["released": 10_000])
            #expect(try await client.int("SELECT count(*) FROM resource_data WHERE customer_id = $1", [due.customerID]) == 3)
            // Nothing else: not the retained resources (warned once each), not prepaid ones.
            #expect(try await client.states(of: retained, .payPerUse) == ["frozen": 20])
            #expect(try await client.int("SELECT count(*) FROM resource_data WHERE customer_id = $1", [retained.customerID]) == 22)
            #expect(try await client.int("""
                SELECT count(*) FROM outbox_events e, jsonb_array_elements_text(e.data->'resource_ids')
                WHERE e.type = 'resource.retention_expiring'
                """) == 20)
            for tenant in [due, retained] {
                #expect(try await client.states(of: tenant, .prepaid).keys.sorted() == ["active"])
            }
            try await assertInvariants(client)
        }
    }

    /// SIGTERM is a graceful stop (the sweep runs as a Service in a ServiceGroup): the
    /// current batch commits, the process says so, prints its summary with
    /// `stopped_early`, and exits 0; the next run finishes the work.
    @Test func sigtermFinishesTheCurrentBatchAndExitsCleanly() async throws {
        try await withTestDatabase { (database, client) async throws in
            let world = try await World.build(client: client)
            let due = try await world.tenant(retentionSeconds: 0, payPerUse: 10_000, prepaid: 0, dataBytes: 32)
            _ = try await world.freeze(due)

            let output = Pipe()
            let errors = Pipe()
            let (process, exited) = try Self.startSweeper(database, options: ["--json"], output: output, errors: errors)
            while try await Self.released(client) == 0, process.isRunning {
                try await Task.sleep(for: .milliseconds(2))
            }
            kill(process.processIdentifier, SIGTERM)
            for await _ in exited {}
            let summary = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationReason == .exit)
            #expect(process.terminationStatus == 0, "\(log)")
            #expect(log.contains("retention-sweep: stopping after the current step"), "\(log)")
            #expect(summary.contains(#""stopped_early":true"#), "\(summary)")
            let released = try await Self.released(client)
            #expect(released > 0 && released < 10_000 && released % 50 == 0, "whole batches only: \(released)")
            try await Self.waitForSweeperSessionsToEnd(client)
            try await assertInvariants(client)

            let (rest, restExited) = try Self.startSweeper(database)
            for await _ in restExited {}
            #expect(rest.terminationStatus == 0)
            #expect(try await Self.released(client) == 10_000)
        }
    }
}
