import CLibPQ
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One libpq connection. Blocking: every method waits for the server, so callers run it off
/// the Swift concurrency pool (``PostgresClient`` does, on its `NIOThreadPool`).
///
/// Not thread-safe; the pool lends it to one thread at a time, hence `@unchecked Sendable`.
/// Every `PGresult` is cleared before a method returns, and the `PGconn` is finished by
/// `close()` or `deinit`, including after a failed connect.
public final class PostgresConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    /// Prepared statements of this session, by SQL text and parameter types.
    var preparedStatements: PreparedStatementCache
    /// What `PQcancel` needs to interrupt a statement from another thread; held while a
    /// cancel request is out, so the session's `close()` cannot free it under `PQcancel`.
    let cancelHandle = NIOLockedValueBox<OpaquePointer?>(nil)
    /// A cancel was requested: the session is not lent out again (a cancel that lands late
    /// would hit the next borrower's statement). Apart from `cancelHandle`, so asking
    /// `isReusable` never waits for a cancel request on the network.
    let cancelRequested = NIOLockedValueBox(false)
    /// The connection's own duplicate of libpq's socket, which the reactor watches. libpq
    /// closes its descriptor when it finds the connection lost; the number could then go to
    /// another connection while the reactor still holds this one's registration. -1 when
    /// there is none (the statement then runs on the blocking pool).
    private(set) var watchSocket: Int32 = -1
    /// TLS sessions read their answers on the blocking pool: decrypted bytes can wait inside
    /// OpenSSL with the socket no longer readable, which only libpq's own wait checks for.
    private(set) var usesTLS = false

    /// Statements sent since the pool lent the connection; a failure of the first one on a
    /// reused connection means nothing ran, so the work is safe to retry elsewhere.
    var commandsSinceLease = 0

    private init(handle: OpaquePointer, maximumPreparedStatements: Int) {
        self.handle = handle
        preparedStatements = PreparedStatementCache(capacity: maximumPreparedStatements)
        cancelHandle.withLockedValue { $0 = PQgetCancel(handle) }
        usesTLS = PQsslInUse(handle) == 1
        let socket = PQsocket(handle)
        if socket >= 0 { watchSocket = dup(socket) }
    }

    deinit { close() }

    /// Opens a connection, applying the session settings of `configuration`.
    public static func connect(_ configuration: PostgresConfiguration) throws -> PostgresConnection {
        let keywords = ["dbname", "application_name", "connect_timeout", "options"]
        let values = [
            configuration.url, configuration.applicationName, String(configuration.connectTimeout),
            configuration.sessionOptions,
        ]
        let handle = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let handle else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle)).trimmingTrailingWhitespace()
            PQfinish(handle)
            throw PostgresError(
                code: .connectionFailed, message: message.isEmpty ? "could not connect" : message,
                sqlState: Self.sqlState(inConnectMessage: message))
        }
        // Notices (e.g. "relation already exists, skipping") are not errors; keep stderr clean.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        // Sends never block, for `queryWithoutBlocking`; the blocking calls (`PQexec…`) still
        // wait for their answer, as libpq documents.
        PQsetnonblocking(handle, 1)
        return PostgresConnection(handle: handle, maximumPreparedStatements: configuration.maximumPreparedStatements)
    }

    /// libpq reports a failed authentication only as text; recognise the common case so
    /// callers can tell "bad password" (28P01) from "refused".
    private static func sqlState(inConnectMessage message: String) -> String? {
        if message.contains("password authentication failed") { return "28P01" }
        if message.contains("does not exist") && message.contains("database") { return "3D000" }
        return nil
    }

    /// Finishes the connection. Safe to call more than once.
    public func close() {
        if let handle {
            cancelHandle.withLockedValue { cancel in
                if let cancel { PQfreeCancel(cancel) }
                cancel = nil
            }
            PQfinish(handle)
            if watchSocket >= 0 {
                #if canImport(Glibc)
                Glibc.close(watchSocket)
                #else
                Darwin.close(watchSocket)
                #endif
                watchSocket = -1
            }
            self.handle = nil
            preparedStatements.removeAll()
        }
    }

    /// Whether the session can still be used: open, and not left inside a transaction.
    public var isReusable: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE
            && !cancelRequested.withLockedValue { $0 }
    }

    public var isOpen: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The server's process id for this session (for `pg_terminate_backend` in tests).
    public var backendPID: Int32 {
        guard let handle else { return 0 }
        return PQbackendPID(handle)
    }

    // MARK: Queries

    /// Runs one parameterized statement and returns its rows.
    ///
    /// Statements are prepared once per session and reused (`PQprepare` + `PQexecPrepared`);
    /// parameters never become part of the SQL text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> PostgresRows {
        let handle = try openHandle()
        commandsSinceLease += 1
        let bound = parameters.map { $0?.postgresParameter }
        let name = try preparedName(for: sql, parameters: bound, handle: handle)
        let result = withParameterArrays(bound) { values, lengths, formats in
            PQexecPrepared(handle, name, Int32(bound.count), values, lengths, formats, 0)
        }
        return try consume(result, handle: handle)
    }

    /// Runs one parameterized statement and returns the number of rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> Int {
        try query(sql, parameters).affectedRows
    }

    /// Runs SQL text as-is through the simple query protocol: several statements are allowed
    /// and nothing is prepared. For migrations and transaction control only — never with
    /// values in the text.
    public func simpleQuery(_ sql: String) throws {
        let handle = try openHandle()
        commandsSinceLease += 1
        _ = try consume(PQexec(handle, sql), handle: handle)
    }

    /// The command tag of a simple statement (`COMMIT` answers `ROLLBACK` when the
    /// transaction had failed, which must not pass for success).
    func simpleCommand(_ sql: String) throws -> String {
        let handle = try openHandle()
        commandsSinceLease += 1
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result, handle: handle)
        return String(cString: PQcmdStatus(result))
    }

    func openHandle() throws -> OpaquePointer {
        guard let handle else {
            throw PostgresError(code: .connectionLost, message: "the connection is closed")
        }
        return handle
    }

    private func preparedName(
        for sql: String, parameters: [PostgresParameter?], handle: OpaquePointer
    ) throws -> String {
        let oids = parameters.map { $0?.oid ?? PostgresOID.unspecified }
        let key = PreparedStatementCache.Key(sql: sql, oids: oids)
        if let name = preparedStatements.name(for: key) { return name }
        if let victim = preparedStatements.victim() {
            let result = PQexec(handle, "DEALLOCATE \(victim.name)")
            defer { PQclear(result) }
            do {
                try check(result, handle: handle)
            } catch let error as PostgresError where error.sqlState == "26000" {
                // Already gone on the server (a DISCARD ALL): nothing to free.
            }
            preparedStatements.remove(victim.key)
        }
        let name = preparedStatements.nextName()
        let result = oids.withUnsafeBufferPointer { types in
            PQprepare(handle, name, sql, Int32(oids.count), types.baseAddress)
        }
        defer { PQclear(result) }
        try check(result, handle: handle)
        preparedStatements.insert(key, name: name)
        return name
    }

    /// Copies a result's rows into Swift values and clears it.
    func consume(_ result: OpaquePointer?, handle: OpaquePointer) throws -> PostgresRows {
        defer { PQclear(result) }
        try check(result, handle: handle)
        guard let result else { return PostgresRows(columns: [], cells: [], affectedRows: 0) }
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns = [String]()
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(String(cString: PQfname(result, Int32(column))))
        }
        var cells = [String?]()
        cells.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    cells.append(nil)
                } else {
                    cells.append(String(cString: PQgetvalue(result, row, column)))
                }
            }
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, cells: cells, affectedRows: affected)
    }

    /// Throws the server's error for a failed result (does not clear it).
    private func check(_ result: OpaquePointer?, handle: OpaquePointer) throws {
        guard let result else {
            throw connectionError(handle: handle, fallback: "no result from the server")
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        default:
            func field(_ code: UInt8) -> String? {
                guard let value = PQresultErrorField(result, Int32(code)) else { return nil }
                return String(cString: value)
            }
            let message = field(UInt8(ascii: "M")) ?? String(cString: PQresultErrorMessage(result))
            var error = PostgresError(
                code: PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost,
                message: message.trimmingTrailingWhitespace(),
                sqlState: field(UInt8(ascii: "C")),
                detail: field(UInt8(ascii: "D")),
                hint: field(UInt8(ascii: "H")),
                constraint: field(UInt8(ascii: "n")),
                table: field(UInt8(ascii: "t")),
                column: field(UInt8(ascii: "c")))
            if error.code == .server, error.sqlState == nil { error.code = .protocolViolation }
            throw error
        }
    }

    func connectionError(handle: OpaquePointer, fallback: String) -> PostgresError {
        let message = String(cString: PQerrorMessage(handle)).trimmingTrailingWhitespace()
        return PostgresError(
            code: PQstatus(handle) == CONNECTION_OK ? .protocolViolation : .connectionLost,
            message: message.isEmpty ? fallback : message)
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call.
private func withCStringArray<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let duplicates = strings.map { strdup($0) }
    defer { duplicates.forEach { free($0) } }
    return body(duplicates.map { $0.map { UnsafePointer($0) } } + [nil])
}

/// Lays all parameter bytes out in one buffer (text values NUL-terminated, as libpq requires)
/// and calls `body` with the value, length and format arrays libpq takes.
func withParameterArrays<R>(
    _ parameters: [PostgresParameter?],
    _ body: ([UnsafePointer<CChar>?], [Int32], [Int32]) -> R
) -> R {
    var buffer = [UInt8]()
    var offsets = [Int?]()
    offsets.reserveCapacity(parameters.count)
    for parameter in parameters {
        guard let parameter else {
            offsets.append(nil)
            continue
        }
        offsets.append(buffer.count)
        buffer.append(contentsOf: parameter.bytes)
        buffer.append(0)
    }
    buffer.append(0)
    let lengths = parameters.map { Int32($0?.bytes.count ?? 0) }
    let formats = parameters.map { $0?.format.rawValue ?? 0 }
    return buffer.withUnsafeBytes { raw in
        let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
        let values = offsets.map { offset in offset.map { UnsafePointer(base + $0) } }
        return body(values, lengths, formats)
    }
}
