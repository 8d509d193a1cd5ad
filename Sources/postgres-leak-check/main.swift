import Foundation
import Postgres

// A synchronous soak of the driver's libpq paths, small enough to run under valgrind
// (Scripts/leak-check): successful and failed connects, prepared and simple queries of
// every supported type, server errors, transactions that commit and roll back. Any
// PGresult not cleared or PGconn not finished shows up as "definitely lost".
guard CommandLine.arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: postgres-leak-check DATABASE_URL [ITERATIONS]\n".utf8))
    exit(2)
}
let url = CommandLine.arguments[1]
let iterations = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 20 : 20
var components = URLComponents(string: url)!
components.password = "wrong-password"
let badPassword = components.string!

for iteration in 0..<iterations {
    // Failed connects: refused, bad password, bad URL.
    for failing in ["postgresql://nobody@127.0.0.1:1/none", badPassword] {
        do {
            _ = try PostgresConnection.connect(PostgresConfiguration(url: failing, connectTimeout: 2))
            fatalError("connected to \(failing)")
        } catch {}
    }
    do {
        _ = try PostgresConfiguration(url: "postgresql://%zz")
        fatalError("accepted a bad URL")
    } catch {}

    let connection = try PostgresConnection.connect(PostgresConfiguration(url: url))
    let id = UUID()
    let row = try connection.query(
        "SELECT $1::bigint, $2::text, $3::uuid, $4::bytea, $5::timestamptz, $6::boolean, $7::float8, $8::uuid[], $9::text",
        [Int64.max, "grüße \(iteration)", id, Data([0, 1, 2, 255]), Date(), true, 1.5, [id, id], nil]
    ).single()
    let decodedID = try row.decode(2, as: UUID.self)
    let decodedNull = try row.decode(8, as: String?.self)
    precondition(decodedID == id && decodedNull == nil)
    try connection.simpleQuery("CREATE TEMP TABLE IF NOT EXISTS soak (v int UNIQUE)")
    _ = try connection.withTransaction { try $0.execute("INSERT INTO soak VALUES ($1)", [Int32(iteration)]) }
    do {
        _ = try connection.withTransaction { try $0.execute("INSERT INTO soak VALUES ($1)", [Int32(iteration)]) }
        fatalError("a unique violation went unnoticed")
    } catch let error as PostgresError where error.isUniqueViolation {}
    do {
        try connection.query("SELEC 1")
        fatalError("a syntax error went unnoticed")
    } catch let error as PostgresError where error.sqlState == "42601" {}
    if iteration % 2 == 0 { connection.close() }  // the other half is finished by deinit
}
print("postgres-leak-check: \(iterations) iterations done")
