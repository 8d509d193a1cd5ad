import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A webhook receiver on loopback for the delivery tests: records every request it gets,
/// answers each path by its script (statuses in order, then 200), may wait before answering,
/// and counts requests that overlapped on one path (two workers on one subscription).
final class WebhookReceiver: Sendable {
    struct Hit: Sendable {
        let path: String
        let eventID: String
        let eventType: String
        let signature: String
        let body: [UInt8]
    }

    private struct State {
        var hits: [Hit] = []
        var scripts: [String: [Int]] = [:]
        var delays: [String: Duration] = [:]
        var inFlight: [String: Int] = [:]
        var overlaps = 0
    }

    private let state = Mutex(State())

    /// The next answers for `path` (then 200 again).
    func script(_ path: String, _ statuses: [Int]) { state.withLock { $0.scripts[path] = statuses } }
    /// Wait this long before answering on `path`.
    func delay(_ path: String, _ duration: Duration) { state.withLock { $0.delays[path] = duration } }

    func hits(_ path: String) -> [Hit] { state.withLock { $0.hits.filter { $0.path == path } } }
    var overlaps: Int { state.withLock { $0.overlaps } }

    fileprivate func receive(_ hit: Hit) -> (status: Int, delay: Duration) {
        state.withLock { state in
            state.hits.append(hit)
            state.inFlight[hit.path, default: 0] += 1
            if state.inFlight[hit.path, default: 0] > 1 { state.overlaps += 1 }
            var status = 200
            if var script = state.scripts[hit.path], !script.isEmpty {
                status = script.removeFirst()
                state.scripts[hit.path] = script
            }
            return (status, state.delays[hit.path] ?? .zero)
        }
    }

    fileprivate func done(_ path: String) { state.withLock { $0.inFlight[path, default: 1] -= 1 } }
}

/// Runs `body` with a receiver listening on 127.0.0.1 (its port passed in), then stops it.
func withWebhookReceiver<T: Sendable>(_ body: @Sendable (WebhookReceiver, Int) async throws -> T) async throws -> T {
    let receiver = WebhookReceiver()
    let router = Router()
    router.post("**") { request, _ -> Response in
        var request = request
        let bytes = try await request.collectBody(upTo: 1 << 20)
        let path = request.uri.path
        let answer = receiver.receive(WebhookReceiver.Hit(
            path: path, eventID: request.headers[.init("PartnerCenter-Event-Id")!] ?? "",
            eventType: request.headers[.init("PartnerCenter-Event-Type")!] ?? "",
            signature: request.headers[.init("PartnerCenter-Signature")!] ?? "", body: Array(buffer: bytes)))
        defer { receiver.done(path) }
        if answer.delay > .zero { try? await Task.sleep(for: answer.delay) }
        return Response(status: .init(code: answer.status))
    }
    let port = Mutex<Int?>(nil)
    var logger = Logger(label: "webhook-receiver")
    logger.logLevel = .warning
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } }, logger: logger)
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var bound: Int?
        for _ in 0..<500 where bound == nil {
            bound = port.withLock { $0 }
            if bound == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        guard let bound else { throw CancellationError() }
        do {
            let value = try await body(receiver, bound)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}
