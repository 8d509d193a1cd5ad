/// An error from the driver or from the server.
///
/// Modelled on postgres-nio's `PSQLError`: the `Code` is an extensible struct rather than a
/// closed enum, and the server's SQLSTATE and fields are exposed.
///
/// `description` (what `"\(error)"` writes, in logs and metrics) is generic for a server
/// error: its code, SQLSTATE, step and constraint name, never the server's message, which
/// can quote the value that failed (`invalid input syntax for type integer: "…"`), nor
/// `detail`, which quotes rows. `debugDescription` (`String(reflecting:)`) adds them, for
/// the one log line of an unexpected error, where a quoted value may appear. Neither
/// includes the statement text.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, at the level a caller branches on.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let base: String
        public var description: String { base }

        /// The configuration (URL or conninfo) could not be parsed.
        public static let invalidConfiguration = Code(base: "invalidConfiguration")
        /// A connection could not be established (refused, bad password, unknown host).
        public static let connectionFailed = Code(base: "connectionFailed")
        /// An established connection broke (server restart, `pg_terminate_backend`).
        public static let connectionLost = Code(base: "connectionLost")
        /// The server answered with an error; see `sqlState`.
        public static let server = Code(base: "server")
        /// The pool had no connection to lend within its acquire timeout.
        public static let poolTimeout = Code(base: "poolTimeout")
        /// The client was shut down.
        public static let clientClosed = Code(base: "clientClosed")
        /// A value could not be decoded into the requested Swift type.
        public static let decoding = Code(base: "decoding")
        /// The server sent something the driver did not expect (wrong result status, …).
        public static let protocolViolation = Code(base: "protocolViolation")
    }

    /// Which step of a transaction failed, so that logs say more than "it failed".
    public enum TransactionStep: String, Sendable {
        case begin, body, commit, rollback
    }

    public var code: Code
    /// The server's five-character SQLSTATE, when the server sent one.
    public var sqlState: String?
    /// The primary message (from the server or libpq). The driver adds no parameter values
    /// to it, but the server's can quote the value that failed, and `detail` quotes rows:
    /// hence the generic `description`.
    public var message: String
    public var detail: String?
    public var hint: String?
    public var constraint: String?
    public var table: String?
    public var column: String?
    public var transactionStep: TransactionStep?

    public init(
        code: Code, message: String, sqlState: String? = nil, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil, table: String? = nil, column: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.column = column
    }

    public var description: String {
        var text = "PostgresError(\(code)"
        if let sqlState { text += ", sqlState: \(sqlState)" }
        if let transactionStep { text += ", step: \(transactionStep.rawValue)" }
        if let constraint { text += ", constraint: \(constraint)" }
        // The driver's own messages (decoding names the column and type, not the value) and
        // libpq's connection messages name no data; the server's can.
        return code == .server ? text + ")" : text + "): \(message)"
    }

    public var debugDescription: String {
        var text = description
        if code == .server { text += ": \(message)" }
        for (name, value) in [("detail", detail), ("hint", hint), ("table", table), ("column", column)] {
            if let value { text += " [\(name): \(value)]" }
        }
        return text
    }
}

extension PostgresError {
    /// Well-known SQLSTATEs the application branches on.
    public enum SQLState {
        public static let uniqueViolation = "23505"
        public static let foreignKeyViolation = "23503"
        public static let checkViolation = "23514"
        public static let notNullViolation = "23502"
        public static let serializationFailure = "40001"
        public static let deadlockDetected = "40P01"
        public static let lockNotAvailable = "55P03"
        public static let queryCanceled = "57014"
        public static let adminShutdown = "57P01"
        public static let crashShutdown = "57P02"
        public static let cannotConnectNow = "57P03"
        /// Class 53, insufficient resources: disk full, out of memory, too many connections.
        public static let insufficientResourcesClass = "53"
        /// Class 08, connection exception, as a server reports it.
        public static let connectionExceptionClass = "08"
        /// A write reached a server that is read-only now (a standby during a failover).
        public static let readOnlySQLTransaction = "25006"
        public static let idleInTransactionTimeout = "25P03"
        public static let insufficientPrivilege = "42501"
        public static let syntaxError = "42601"
        public static let undefinedTable = "42P01"
        public static let raiseException = "P0001"
    }

    public var isUniqueViolation: Bool { sqlState == SQLState.uniqueViolation }
    public var isSerializationFailure: Bool { sqlState == SQLState.serializationFailure }
    public var isDeadlock: Bool { sqlState == SQLState.deadlockDetected }
    /// `lock_timeout` expired (or `NOWAIT` failed).
    public var isLockTimeout: Bool { sqlState == SQLState.lockNotAvailable }
    /// `statement_timeout` expired (the server reports it as query_canceled).
    public var isStatementTimeout: Bool { sqlState == SQLState.queryCanceled }
    public var isInsufficientPrivilege: Bool { sqlState == SQLState.insufficientPrivilege }
    /// Worth retrying the whole transaction: the server rolled it back because of concurrency.
    public var isTransient: Bool { isSerializationFailure || isDeadlock }
    /// The database cannot be reached (or was lost), or cannot take the work now (out of
    /// resources, read-only during a failover); callers map this to "service unavailable".
    public var isUnavailable: Bool {
        code == .connectionFailed || code == .connectionLost || code == .poolTimeout
            || code == .clientClosed
            || sqlState == SQLState.adminShutdown || sqlState == SQLState.crashShutdown
            || sqlState == SQLState.cannotConnectNow || sqlState == SQLState.readOnlySQLTransaction
            || sqlState?.hasPrefix(SQLState.insufficientResourcesClass) == true
            || sqlState?.hasPrefix(SQLState.connectionExceptionClass) == true
    }
}
