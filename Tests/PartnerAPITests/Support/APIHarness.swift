import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PartnerAPI
import PartnerCore
import Postgres
import TestSupport

/// One API under test: a fresh database cloned from the template, the services over it, and
/// the router of `buildRouter` driven in-process. Set-up goes through the services (fast, and
/// not what is under test); the behaviour under test goes through HTTP; the database is read
/// directly to check what a request did or did not change.
///
/// The services connect as the application role, as in production, so row-level security
/// holds under every API test; `client` is the admin's, for checks and for set-up in SQL.
struct API: Sendable {
    let database: TestDatabase
    let client: PostgresClient
    let services: PartnerServices
    let http: any TestClientProtocol
    /// An operator principal and its token, made for every test.
    let operatorID: UUID
    let operatorToken: String

    /// The operator as a principal, for set-up calls to the services.
    var operatorContext: ChangeContext { world.operatorContext }

    /// Sends one request. `json` is sent as the body verbatim (so tests can send malformed
    /// text); `token` becomes `Authorization: Bearer …`.
    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, as token: String? = nil, json: String? = nil,
        body: ByteBuffer? = nil, headers: HTTPFields = [:]
    ) async throws -> APIResult {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        var payload = body
        if let json {
            headers[.contentType] = "application/json"
            payload = ByteBuffer(string: json)
        }
        let response = try await http.execute(uri: path, method: method, headers: headers, body: payload)
        return APIResult(status: response.status, headers: response.headers, body: Data(buffer: response.body))
    }

    /// Repeats a read until `done` holds or thirty seconds pass, and returns the last answer.
    func poll(
        _ method: HTTPRequest.Method, _ path: String, as token: String?, until done: (APIResult) -> Bool
    ) async throws -> APIResult {
        // Generous: the events feed waits for every older transaction in the cluster, and
        // the suites share one cluster with long ones (a 10^5-row bulk insert, the races).
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while true {
            let result = try await call(method, path, as: token)
            if done(result) || ContinuousClock.now >= deadline { return result }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: Reading the database (values: TestSupport's `client.int`, `client.string`, …)

    /// The proof that nothing changed, the one the core tests use (`DatabaseState`): every
    /// table a request can change, row by row. Verification-code attempts and stored
    /// idempotency answers are left out on purpose (a wrong code must count; a refused
    /// answer is stored to be replayed).
    func snapshot() async throws -> DatabaseState {
        try await DatabaseState.capture(client, includingIdempotency: false)
    }
}

/// What came back: status, headers, the raw body and the body as JSON.
struct APIResult: Sendable, CustomStringConvertible {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: Data

    var code: Int { status.code }
    var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: body)) ?? .null }
    var text: String { String(decoding: body, as: UTF8.self) }
    /// `error.code` of an error body.
    var errorCode: String? { json["error"]?["code"]?.string }
    var description: String { "\(status.code) \(text.prefix(400))" }
}

/// Lets a few API tests run at once. Swift Testing starts every test together; each holds a
/// database and a pool, and the PostgreSQL server (shared with other work) has a connection
/// limit, so the rest wait their turn here.
actor TestGate {
    static let shared = TestGate(permits: 4)

    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) { available = permits }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            available += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

/// Runs `body` against a fresh database and an app on it; everything is dropped afterwards.
/// The rate limits are off unless a test sets `rateLimitPerSecond` (the matrix tests send
/// hundreds of requests with one key) or `unknownKeysPerSecond` (every test's requests come
/// from one address).
func withAPI<T: Sendable>(
    codeResendInterval: TimeInterval = 10, maximumBodySize: Int = 1 << 20, rateLimitPerSecond: Double = 0,
    unknownKeysPerSecond: Double = 0, _ body: @escaping @Sendable (API) async throws -> T
) async throws -> T {
    await TestGate.shared.acquire()
    do {
        let value = try await runAPI(
            codeResendInterval: codeResendInterval, maximumBodySize: maximumBodySize,
            limits: (rateLimitPerSecond, unknownKeysPerSecond), body)
        await TestGate.shared.release()
        return value
    } catch {
        await TestGate.shared.release()
        throw error
    }
}

private func runAPI<T: Sendable>(
    codeResendInterval: TimeInterval, maximumBodySize: Int, limits: (perKey: Double, unknownKeys: Double),
    _ body: @escaping @Sendable (API) async throws -> T
) async throws -> T {
    try await withTestDatabase(maximumConnections: 2) { (database, client) async throws -> T in
        let application = try await database.applicationClient(maximumConnections: 4)
        do {
            let value = try await runApp(
                database, admin: client, application: application, codeResendInterval: codeResendInterval,
                maximumBodySize: maximumBodySize, limits: limits, body)
            await application.shutdown()
            return value
        } catch {
            await application.shutdown()
            throw error
        }
    }
}

private func runApp<T: Sendable>(
    _ database: TestDatabase, admin client: PostgresClient, application: PostgresClient, codeResendInterval: TimeInterval,
    maximumBodySize: Int, limits: (perKey: Double, unknownKeys: Double), _ body: @escaping @Sendable (API) async throws -> T
) async throws -> T {
    AppMetrics.bootstrap()
    let services = PartnerServices(client: application, codeDelivery: .response, codeResendInterval: codeResendInterval)
    var configuration = APIConfiguration(codeDelivery: .response, maximumBodySize: maximumBodySize)
    configuration.rateLimitPerSecond = limits.perKey
    configuration.rateLimitBurst = limits.perKey * 2
    configuration.unknownKeysPerSecond = limits.unknownKeys
    let app = Application(router: buildRouter(configuration: configuration, services: services))
    let operatorKey = try await services.apiKeys.createOperator(name: "Test operator")
    return try await app.test(.router) { http in
        try await body(API(
            database: database, client: client, services: services, http: http,
            operatorID: operatorKey.principalId, operatorToken: operatorKey.token))
    }
}
