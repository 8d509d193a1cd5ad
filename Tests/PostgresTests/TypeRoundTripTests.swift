import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Types survive a round trip through PostgreSQL")
struct TypeRoundTripTests {
    @Test func integersIncludingExtremes() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            for value in [Int64.min, -1, 0, 1, Int64.max] {
                let row = try await client.query("SELECT $1::bigint AS v", [value]).single()
                #expect(try row.decode("v", as: Int64.self) == value)
            }
            for value in [Int32.min, 0, Int32.max] {
                let row = try await client.query("SELECT $1::integer", [value]).single()
                #expect(try row.decode(0, as: Int32.self) == value)
            }
            let row = try await client.query("SELECT $1::bigint", [Int.max]).single()
            #expect(try row.decode(0, as: Int.self) == Int.max)
        }
    }

    @Test func boolsDoublesAndText() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            for value in [true, false] {
                #expect(try await client.query("SELECT $1::boolean", [value]).single().decode(0, as: Bool.self) == value)
            }
            for value in [0.0, -1.5, 1e-300, Double.greatestFiniteMagnitude, .infinity, -.infinity] {
                #expect(try await client.query("SELECT $1::float8", [value]).single().decode(0, as: Double.self) == value)
            }
            #expect(try await client.query("SELECT $1::float8", [Double.nan]).single().decode(0, as: Double.self).isNaN)
            for text in ["", "plain", "Grüße, 你好, עברית, 🧊", "line\nbreak\ttab", "quote ' and \" and \\"] {
                #expect(try await client.query("SELECT $1::text", [text]).single().decode(0, as: String.self) == text)
            }
        }
    }

    @Test func uuidsDatesAndArrays() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            let id = UUID()
            #expect(try await client.query("SELECT $1::uuid", [id]).single().decode(0, as: UUID.self) == id)
            let dates = [
                Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_764_000_000.123456),
                Date(timeIntervalSince1970: -86_400 * 365 * 30 + 0.5), Date(timeIntervalSince1970: 4_102_444_800),
            ]
            for date in dates {
                let back = try await client.query("SELECT $1::timestamptz", [date]).single().decode(0, as: Date.self)
                #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001)
            }
            let server = try await client.query("SELECT '2026-11-28 12:34:56.5+02'::timestamptz").single()
            #expect(try server.decode(0, as: Date.self) == Date(timeIntervalSince1970: 1_795_862_096.5))
            let ids = [UUID(), UUID(), UUID()]
            #expect(try await client.query("SELECT $1::uuid[]", [ids]).single().decode(0, as: [UUID].self) == ids)
            #expect(try await client.query("SELECT $1::uuid[]", [[UUID]()]).single().decode(0, as: [UUID].self) == [])
            let texts = ["a,b", "{x}", "NULL", "with \"quote\"", "back\\slash", ""]
            #expect(try await client.query("SELECT $1::text[]", [texts]).single().decode(0, as: [String].self) == texts)
            #expect(try await client.query("SELECT $1::bigint[]", [[1, -2, Int.max]]).single().decode(0, as: [Int].self) == [1, -2, Int.max])
        }
    }

    @Test func byteaEmptyAndLarge() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            let empty = Data()
            #expect(try await client.query("SELECT $1::bytea", [empty]).single().decode(0, as: Data.self) == empty)
            let every = Data((0...255).map { UInt8($0) })
            #expect(try await client.query("SELECT $1::bytea", [every]).single().decode(0, as: Data.self) == every)
            var generator = SystemRandomNumberGenerator()
            let large = Data((0..<(4 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let back = try await client.query("SELECT $1::bytea", [large]).single().decode(0, as: Data.self)
            #expect(back == large)
            #expect(try await client.query("SELECT length($1::bytea)", [large]).single().decode(0, as: Int.self) == 4 << 20)
        }
    }

    @Test func jsonAndNulls() async throws {
        struct Payload: Codable, Equatable { var name: String; var count: Int }
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            let json = try PostgresJSON(encoding: Payload(name: "ünï", count: 3))
            let back = try await client.query("SELECT $1::jsonb", [json]).single().decode(0, as: PostgresJSON.self)
            #expect(try back.decode(Payload.self) == Payload(name: "ünï", count: 3))
            let row = try await client.query(
                "SELECT $1::text, $2::bigint, $3::uuid, $4::bytea, $5::timestamptz",
                [nil, nil, nil, nil, nil]).single()
            #expect(try row.decode(0, as: String?.self) == nil)
            #expect(try row.decode(1, as: Int?.self) == nil)
            #expect(try row.decode(2, as: UUID?.self) == nil)
            #expect(try row.decode(3, as: Data?.self) == nil)
            #expect(try row.decode(4, as: Date?.self) == nil)
            #expect(throws: PostgresError.self) { try row.decode(0, as: String.self) }
        }
    }

    @Test func injectionLookingParameterIsStoredLiterally() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            try await client.query("CREATE TABLE notes (body text)")
            let attack = "x'); DROP TABLE notes; --"
            try await client.query("INSERT INTO notes (body) VALUES ($1)", [attack])
            let rows = try await client.query("SELECT body FROM notes")
            #expect(rows.count == 1)
            #expect(try rows[0].decode(0, as: String.self) == attack)
        }
    }

    private enum Shade: String { case light, dark }

    /// An enum decodes by its raw value; a value it has no case for is a decoding error, not
    /// a default, and the value is not quoted back.
    @Test func enumsDecodeByRawValueAndRefuseUnknownValues() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            let row = try await client.query("SELECT 'dark', 'dusk', NULL::text").single()
            #expect(try row.decode(0, as: Shade.self) == .dark)
            #expect(try row.decode(0, as: Shade?.self) == .dark)
            #expect(try row.decode(2, as: Shade?.self) == nil)
            let unknown = try #require(throws: PostgresError.self) { try row.decode(1, as: Shade.self) }
            #expect(unknown.code == .decoding)
            #expect(!unknown.message.contains("dusk"))
            #expect(throws: PostgresError.self) { try row.decode(1, as: Shade?.self) }
            #expect(throws: PostgresError.self) { try row.decode(2, as: Shade.self) }
        }
    }

    /// A tuple takes the row's first columns in order, each decoded as on its own; a NULL
    /// among them is an error, as it is for a non-optional column.
    @Test func tuplesDecodeTheLeadingColumnsInOrder() async throws {
        try await withTestDatabase(migrated: false) { (_, client) async throws in
            let id = UUID()
            let row = try await client.query("SELECT $1::uuid, 'name', 42::bigint, true, NULL::text", [id]).single()
            let (decodedID, name, count, flag) = try row.decode((UUID, String, Int, Bool).self)
            #expect(decodedID == id && name == "name" && count == 42 && flag)
            let nulls = try await client.query("SELECT 'a', NULL::text").single()
            let error = try #require(throws: PostgresError.self) { try nulls.decode((String, String).self) }
            #expect(error.code == .decoding)
        }
    }
}
