import Crypto
import Foundation
import Postgres

/// Applies the plain SQL files of a schema folder (`NNNN_name.sql`) in order.
///
/// Each file runs in its own transaction and is recorded in `schema_migrations` with its
/// SHA-256, so an applied file that was edited afterwards is refused rather than silently
/// diverging. Concurrent runs are serialized by a session advisory lock; when everything is
/// applied a run changes nothing. Files must not contain transaction control of their own.
public struct SchemaMigrator: Sendable {
    public struct Migration: Sendable, Equatable {
        /// The file name, e.g. `0001_roles.sql`; also the key in `schema_migrations`.
        public var name: String
        public var sql: String
        public var checksum: String
    }

    public enum State: String, Sendable {
        case applied, pending
        /// Applied, but the file on disk no longer matches what was applied.
        case changed
        /// Recorded as applied, but no longer on disk.
        case missing
    }

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var state: State
        public var appliedAt: Date?
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case noSchemaFolder(String)
        case badFileName(String)
        case changedAfterApply([String])
        case migrationFailed(name: String, message: String)

        public var description: String {
            switch self {
            case .noSchemaFolder(let path): "no schema folder at \(path)"
            case .badFileName(let name): "schema file \(name) is not named NNNN_name.sql"
            case .changedAfterApply(let names):
                "applied schema files were edited afterwards: \(names.joined(separator: ", ")); "
                    + "add a new file instead of editing an applied one"
            case .migrationFailed(let name, let message): "\(name) failed: \(message)"
            }
        }
    }

    /// Lock key shared by every migrator of this project (an arbitrary constant).
    static let advisoryLockKey: Int64 = 0x5043_4D49_4752  // "PCMIGR"

    public let migrations: [Migration]

    public init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.name < $1.name }
    }

    /// Reads every `*.sql` file of `directory`, sorted by name.
    public init(directory: String) throws {
        let url = URL(fileURLWithPath: directory, isDirectory: true)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure.noSchemaFolder(directory)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
            .filter { $0.hasSuffix(".sql") }
        var migrations: [Migration] = []
        for name in names {
            guard name.range(of: #"^[0-9]{4}_[A-Za-z0-9_]+\.sql$"#, options: .regularExpression) != nil else {
                throw Failure.badFileName(name)
            }
            let data = try Data(contentsOf: url.appendingPathComponent(name))
            migrations.append(Migration(
                name: name, sql: String(decoding: data, as: UTF8.self),
                checksum: SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()))
        }
        self.init(migrations: migrations)
    }

    /// Applies every pending file; returns the names applied (empty when up to date).
    public func migrate(_ client: PostgresClient) async throws -> [String] {
        try await client.withConnection { connection in try self.migrate(on: connection) }
    }

    /// The state of every file, on disk or recorded.
    public func status(_ client: PostgresClient) async throws -> [Entry] {
        try await client.withConnection { connection in
            try Self.createLedger(connection)
            return try self.entries(applied: Self.applied(connection))
        }
    }

    func migrate(on connection: PostgresConnection) throws -> [String] {
        try connection.query("SELECT pg_advisory_lock($1)", [Self.advisoryLockKey])
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [Self.advisoryLockKey]) }
        try Self.createLedger(connection)
        let entries = entries(applied: try Self.applied(connection))
        let changed = entries.filter { $0.state == .changed }.map(\.name)
        guard changed.isEmpty else { throw Failure.changedAfterApply(changed) }
        var appliedNow: [String] = []
        for migration in migrations where entries.contains(Entry(name: migration.name, state: .pending, appliedAt: nil)) {
            do {
                try connection.withTransaction { connection in
                    try connection.simpleQuery(migration.sql)
                    try connection.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                        [migration.name, migration.checksum])
                }
            } catch let error as PostgresError {
                throw Failure.migrationFailed(name: migration.name, message: error.message)
            }
            appliedNow.append(migration.name)
        }
        return appliedNow
    }

    private static func createLedger(_ connection: PostgresConnection) throws {
        try connection.simpleQuery("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                name text PRIMARY KEY,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
    }

    private static func applied(_ connection: PostgresConnection) throws -> [String: (String, Date)] {
        var applied: [String: (String, Date)] = [:]
        for row in try connection.query("SELECT name, checksum, applied_at FROM schema_migrations") {
            applied[try row.decode(0, as: String.self)] = (try row.decode(1, as: String.self), try row.decode(2, as: Date.self))
        }
        return applied
    }

    private func entries(applied: [String: (String, Date)]) -> [Entry] {
        var entries = migrations.map { migration -> Entry in
            guard let (checksum, appliedAt) = applied[migration.name] else {
                return Entry(name: migration.name, state: .pending, appliedAt: nil)
            }
            return Entry(name: migration.name, state: checksum == migration.checksum ? .applied : .changed, appliedAt: appliedAt)
        }
        let onDisk = Set(migrations.map(\.name))
        for (name, (_, appliedAt)) in applied where !onDisk.contains(name) {
            entries.append(Entry(name: name, state: .missing, appliedAt: appliedAt))
        }
        return entries.sorted { $0.name < $1.name }
    }
}
