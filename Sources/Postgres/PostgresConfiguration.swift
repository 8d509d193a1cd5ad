import CLibPQ

/// How to reach the database and how each connection is set up.
///
/// `url` may be a `postgresql://` URL or a libpq conninfo string; both are validated with
/// `PQconninfoParse` up front, so a typo is reported before any connection is attempted.
public struct PostgresConfiguration: Sendable {
    public var url: String
    /// Sent as `application_name`, visible in `pg_stat_activity`.
    public var applicationName: String
    /// Seconds libpq waits for a connection to be established.
    public var connectTimeout: Int
    /// Per-statement limit; `nil` keeps the server's setting.
    public var statementTimeout: Duration?
    /// How long a statement waits for a lock; `nil` keeps the server's setting.
    public var lockTimeout: Duration?
    /// Ends sessions that sit idle inside a transaction; `nil` keeps the server's setting.
    public var idleInTransactionSessionTimeout: Duration?
    /// Prepared statements kept per session; beyond it the least recently used is
    /// deallocated. The application's code has 117 statement call sites, so the default
    /// only ever evicts statements built at run time.
    public var maximumPreparedStatements: Int

    public init(
        url: String,
        applicationName: String = "partner-center",
        connectTimeout: Int = 5,
        statementTimeout: Duration? = .seconds(30),
        lockTimeout: Duration? = .seconds(10),
        idleInTransactionSessionTimeout: Duration? = .seconds(60),
        maximumPreparedStatements: Int = 512
    ) throws {
        self.url = url
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
        self.lockTimeout = lockTimeout
        self.idleInTransactionSessionTimeout = idleInTransactionSessionTimeout
        self.maximumPreparedStatements = maximumPreparedStatements
        try Self.validate(url)
    }

    /// Parses the conninfo or URL with libpq itself and frees everything it allocated.
    static func validate(_ url: String) throws {
        guard !url.isEmpty else {
            throw PostgresError(code: .invalidConfiguration, message: "the database URL is empty")
        }
        var errorMessage: UnsafeMutablePointer<CChar>?
        let options = PQconninfoParse(url, &errorMessage)
        defer {
            if let options { PQconninfoFree(options) }
            if let errorMessage { PQfreemem(errorMessage) }
        }
        if options == nil {
            let reason = errorMessage.map { String(cString: $0) } ?? "unparseable"
            throw PostgresError(
                code: .invalidConfiguration,
                message: "invalid database URL: \(reason.trimmingTrailingWhitespace())")
        }
    }

    /// The `-c name=value` settings every new session starts with. UTC and ISO dates make
    /// timestamptz text unambiguous for the decoder.
    var sessionOptions: String {
        var settings = ["TimeZone=UTC", "DateStyle=ISO", "IntervalStyle=iso_8601"]
        if let statementTimeout { settings.append("statement_timeout=\(statementTimeout.milliseconds)") }
        if let lockTimeout { settings.append("lock_timeout=\(lockTimeout.milliseconds)") }
        if let idleInTransactionSessionTimeout {
            settings.append("idle_in_transaction_session_timeout=\(idleInTransactionSessionTimeout.milliseconds)")
        }
        return settings.map { "-c \($0)" }.joined(separator: " ")
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var scalars = Substring(self)
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
