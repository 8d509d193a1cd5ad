import Foundation
import Postgres

// A soak of the driver's libpq paths, small enough to run under valgrind
// (Scripts/leak-check): successful and failed connects, prepared and simple queries of
// every supported type, server errors, transactions that commit and roll back, and the
// client's non-blocking statements with a cancel among them. Any
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
// The non-blocking path of `PostgresClient.query`: statements sent from a task and read by
// the reactor thread, a server error, a statement cancelled mid-flight (PQcancel, and the
// PGcancel freed with its retired session), then the client's shutdown. Run from a detached
// task the main thread waits for (a top-level `Task` would run on the main actor, which is
// this waiting thread): an async main (dispatch's main queue) crashed valgrind 3.19.
@Sendable func soakNonBlocking(_ url: String, _ iterations: Int) async throws {
    let client = PostgresClient(configuration: .init(connection: try PostgresConfiguration(url: url), maximumConnections: 2))
    for iteration in 0..<iterations {
        let rows = try await client.query("SELECT $1::int, $2::text", [Int32(iteration), "grüße"])
        let echoed = try rows.single().decode(0, as: Int.self)
        precondition(echoed == iteration)
        do {
            try await client.query("SELEC 1")
            fatalError("a syntax error went unnoticed")
        } catch let error as PostgresError where error.sqlState == "42601" {}
        let sleeping = Task { try await client.query("SELECT pg_sleep(1)") }
        try await Task.sleep(for: .milliseconds(100))
        sleeping.cancel()
        _ = try? await sleeping.value
    }
    await client.shutdown()
}
let finished = DispatchSemaphore(value: 0)
Task.detached {
    do {
        try await soakNonBlocking(url, iterations)
    } catch {
        fatalError("the non-blocking soak failed: \(error)")
    }
    finished.signal()
}
finished.wait()
print("postgres-leak-check: \(iterations) iterations done")
