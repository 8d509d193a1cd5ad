import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The one HTTP client that posts webhooks and verification codes, for the life of the
/// process (like `HTTPClient.shared`, so it is never shut down): redirects are not followed
/// (a receiver answers where it was subscribed, and a redirect must not carry a signed body
/// elsewhere), connections to a receiver are kept alive between events.
enum WebhookHTTP {
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5)),
            connectionPool: .init(idleTimeout: .seconds(60))))

    /// What one POST came to: the receiver's status, or why none came.
    struct Answer: Sendable {
        var status: Int?
        var error: String?
        var milliseconds: Int
        var isSuccess: Bool { status.map { (200..<300).contains($0) } ?? false }
    }

    /// The largest answer body read (and dropped) before the connection is reused.
    static let maximumAnswerBytes = 64 * 1024

    /// POSTs `body` as JSON with `headers`, within `timeout` seconds for the whole exchange.
    static func post(_ url: URL, body: [UInt8], headers: [(String, String)], timeout: Double) async -> Answer {
        let started = ContinuousClock.now
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "PartnerCenter-Webhooks/1")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        func elapsed() -> Int {
            let duration = ContinuousClock.now - started
            return Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        }
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let status = Int(response.status.code)
            // Read what the receiver says (bounded) so the connection can carry the next event.
            _ = try? await response.body.collect(upTo: maximumAnswerBytes)
            return Answer(status: status, error: nil, milliseconds: elapsed())
        } catch {
            return Answer(status: nil, error: describe(error), milliseconds: elapsed())
        }
    }

    /// A short, stable text for an attempt's `error` (no addresses or stack of the server).
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timeout"
            case .remoteConnectionClosed: return "connection closed by the receiver"
            default: return "http error: \(String(describing: error).prefix(120))"
            }
        }
        return "connection failed: \(String(describing: error).prefix(160))"
    }
}
