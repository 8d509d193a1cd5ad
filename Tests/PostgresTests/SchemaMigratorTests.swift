import Foundation
import Postgres
import PostgresMigrations
import TestSupport
import Testing

@Suite("migrate")
struct SchemaMigratorTests {
    func folder(_ files: [String: String]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, sql) in files {
            try Data(sql.utf8).write(to: url.appendingPathComponent(name))
        }
        return url.path
    }

    let files = [
        "0001_first.sql": "CREATE TABLE first (id int PRIMARY KEY);",
        "0002_second.sql": "CREATE TABLE second (id int REFERENCES first (id)); INSERT INTO first VALUES (1);",
    ]

    @Test func freshThenRerunIsANoOp() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            let migrator = try SchemaMigrator(directory: try folder(files))
            #expect(try await migrator.migrate(client) == ["0001_first.sql", "0002_second.sql"])
            #expect(try await migrator.migrate(client) == [])
            let states = try await migrator.status(client).map(\.state)
            #expect(states == [.applied, .applied])
            #expect(try await client.query("SELECT count(*) FROM first").single().decode(0, as: Int.self) == 1)
        }
    }

    @Test func editedAppliedFileIsRefused() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            let path = try folder(files)
            _ = try await SchemaMigrator(directory: path).migrate(client)
            try Data("CREATE TABLE first (id bigint PRIMARY KEY);".utf8)
                .write(to: URL(fileURLWithPath: path).appendingPathComponent("0001_first.sql"))
            try Data("CREATE TABLE third (id int);".utf8)
                .write(to: URL(fileURLWithPath: path).appendingPathComponent("0003_third.sql"))
            let migrator = try SchemaMigrator(directory: path)
            await #expect(throws: SchemaMigrator.Failure.changedAfterApply(["0001_first.sql"])) {
                try await migrator.migrate(client)
            }
            // Nothing after the refusal was applied.
            #expect(try await client.query("SELECT to_regclass('third') IS NULL").single().decode(0, as: Bool.self))
        }
    }

    @Test func failingFileRollsBackAndStops() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            let migrator = try SchemaMigrator(directory: try folder([
                "0001_ok.sql": "CREATE TABLE ok (id int);",
                "0002_bad.sql": "CREATE TABLE half (id int); SELECT * FROM nowhere;",
                "0003_later.sql": "CREATE TABLE later (id int);",
            ]))
            await #expect(throws: SchemaMigrator.Failure.self) { try await migrator.migrate(client) }
            let present = try await client.query(
                "SELECT to_regclass('ok') IS NOT NULL, to_regclass('half') IS NULL, to_regclass('later') IS NULL").single()
            #expect(try present.decode(0, as: Bool.self) && present.decode(1, as: Bool.self) && present.decode(2, as: Bool.self))
            #expect(try await migrator.status(client).map(\.state) == [.applied, .pending, .pending])
        }
    }

    @Test func badFileNameIsRefused() throws {
        #expect(throws: SchemaMigrator.Failure.badFileName("first.sql")) {
            try SchemaMigrator(directory: try folder(["first.sql": "SELECT 1;"]))
        }
    }

    @Test func threeConcurrentRunsApplyEachFileOnce() async throws {
        try await withTestDatabase(migrated: false) { (database, _) async throws in
            let path = try folder(files.merging(["0003_slow.sql": "SELECT pg_sleep(0.3); CREATE TABLE slow (id int);"]) { a, _ in a })
            let results = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        let client = try database.client(maximumConnections: 1)
                        let applied = try await SchemaMigrator(directory: path).migrate(client)
                        await client.shutdown()
                        return applied
                    }
                }
                return try await group.reduce(into: [[String]]()) { $0.append($1) }
            }
            #expect(results.flatMap { $0 }.sorted() == ["0001_first.sql", "0002_second.sql", "0003_slow.sql"])
            #expect(results.filter(\.isEmpty).count == 2)
        }
    }

    /// The project's own Schema/ applies to an empty database and again is a no-op.
    @Test func projectSchemaApplies() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            let migrator = try SchemaMigrator(directory: projectSchemaFolder())
            #expect(try await migrator.migrate(client).count == migrator.migrations.count)
            #expect(try await migrator.migrate(client).isEmpty)
        }
    }
}

/// `Schema/` of this checkout, found from this source file's location.
func projectSchemaFolder() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Schema").path
}
