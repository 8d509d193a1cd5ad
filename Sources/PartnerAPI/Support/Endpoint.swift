import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PartnerCore
import Postgres

/// The request pipeline every handler shares: read and decode the body (1 MiB at most),
/// honour `Idempotency-Key` on writes, call one service method, encode the answer.
struct Endpoint: Sendable {
    let idempotency: Idempotency
    let maximumBodySize: Int

    /// A read: no body, no idempotency.
    func read(
        _ request: Request, _ context: AppRequestContext, _ handler: (Principal) async throws -> APIResponse
    ) async throws -> Response {
        try await handler(context.requirePrincipal()).response(requestID: context.requestID)
    }

    /// A write with a JSON body of type `Body` (an empty body reads as `{}`), answering
    /// `status` with the handler's value. `tenant` is the customer the path names: an
    /// idempotency record lives with it (on Citus, on its shard); without one, with the caller.
    /// A body for which `storesAnswer` is false (a dry run) is answered without an
    /// idempotency record, whatever the headers say.
    func write<Body: Decodable & Sendable, Value: Encodable & Sendable>(
        _ request: Request, _ context: AppRequestContext, as body: Body.Type, status: HTTPResponse.Status,
        tenant: CustomerID? = nil, storesAnswer: (Body) -> Bool = { _ in true },
        _ handler: @escaping @Sendable (ChangeContext, Body) async throws -> Value
    ) async throws -> Response {
        var change = try context.change()
        if change.principal.isSuspended {
            throw PartnerError(.actorSuspended, "your \(change.principal.kind.rawValue) account is suspended")
        }
        var request = request
        let bytes: ByteBuffer
        do {
            bytes = try await request.collectBody(upTo: maximumBodySize)
        } catch {
            throw PartnerError(.payloadTooLarge, "the request body is larger than 1 MiB")
        }
        let data = bytes.readableBytes == 0 ? Data("{}".utf8) : Data(buffer: bytes)
        let decoded: Body
        do {
            decoded = try JSONCoding.decoder.decode(Body.self, from: data)
        } catch let error as DecodingError {
            throw PartnerError(.validationFailed, ErrorMapping.describe(error))
        }
        guard let key = request.headers[.idempotencyKey], storesAnswer(decoded) else {
            return try APIResponse(status, try await handler(change, decoded)).response(requestID: context.requestID)
        }
        var hasher = SHA256()
        hasher.update(data: Data("\(request.method.rawValue) \(request.uri.path)\n".utf8))
        hasher.update(data: data)
        let render: @Sendable (any Encodable & Sendable) throws -> StoredAnswer = { value in
            StoredAnswer(status: Int(status.code), body: String(decoding: try JSONStreamEncoder.encode(value), as: UTF8.self))
        }
        let claim: IdempotentClaim
        switch try await idempotency.claim(
            change.principal, tenantID: tenant?.uuid ?? change.principal.id, key: key, requestHash: Data(hasher.finalize()), render: render)
        {
        case .replay(let stored):
            return Self.replay(stored).response(requestID: context.requestID)
        case .proceed(let claimed):
            claim = claimed
        }
        change.idempotency = claim
        let answer: StoredAnswer
        do {
            let value = try await claim.keepAlive { try await handler(change, decoded) }
            // A batch one of whose customers failed on our side: send this answer, keep none.
            if claim.hasTransientOutcome {
                if let stored = try? await claim.release() { return Self.replay(stored).response(requestID: context.requestID) }
                return try APIResponse(status, value).response(requestID: context.requestID)
            }
            // The work's transaction stored its answer; a service that stores none is completed here.
            if let recorded = claim.recordedAnswer {
                // A secret shown once is sent now and was stored without it.
                answer = value is any ShownOnce ? try render(value) : recorded
            } else {
                answer = try await claim.complete(try render(value))
            }
        } catch {
            let partnerError = ErrorMapping.partnerError(from: error)
            // A 5xx, or a 429 that says "later" (rate limit, code resend, a request still in
            // progress), is not an answer to keep: give the key back, unless the failure hid a commit.
            guard ErrorMapping.status(for: partnerError.code).code < 500, partnerError.code != .rateLimited else {
                if let stored = try? await claim.release() { return Self.replay(stored).response(requestID: context.requestID) }
                throw error
            }
            let refusal = APIResponse(error: partnerError)
            answer = try await claim.complete(StoredAnswer(status: Int(refusal.status.code), body: String(decoding: refusal.body, as: UTF8.self)))
        }
        return APIResponse(status: HTTPResponse.Status(code: answer.status), body: Data(answer.body.utf8))
            .response(requestID: context.requestID)
    }

    static func replay(_ stored: StoredAnswer) -> APIResponse {
        var response = APIResponse(status: HTTPResponse.Status(code: stored.status), body: Data(stored.body.utf8))
        response.headers[.idempotentReplay] = "true"
        return response
    }
}

/// Path and query parameters, with the API's errors: a path id that is not a UUID names
/// nothing (404); a bad query value is 422.
extension AppRequestContext {
    /// A path id of an entity: `let customerID: CustomerID = try context.pathID(…)`.
    func pathID<Entity>(_ name: String, _ what: String) throws -> EntityID<Entity> {
        EntityID(try pathID(name, what) as UUID)
    }

    /// A path id of something else (an API key, a webhook).
    func pathID(_ name: String, _ what: String) throws -> UUID {
        guard let text = parameters.get(name), let id = UUID.parse(text) else { throw PartnerError.notFound(what) }
        return id
    }
}

extension Request {
    func query(_ name: String) -> String? {
        uri.queryParameters.get(name)
    }

    func pageRequest(cursorName: String = "cursor") throws -> PageRequest {
        var limit: Int? = nil
        if let text = query("limit") {
            guard let value = Int(text) else { throw PartnerError.validation("limit must be a whole number from 1 to 200") }
            limit = value
        }
        return try PageRequest(limit: limit, cursor: query(cursorName))
    }

    func enumQuery<T: RawRepresentable & CaseIterable>(_ name: String, as: T.Type) throws -> T? where T.RawValue == String {
        guard let text = query(name), !text.isEmpty else { return nil }
        guard let value = T(rawValue: text) else {
            throw PartnerError.validation("\(name) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    func idQuery<Entity>(_ name: String) throws -> EntityID<Entity>? {
        guard let text = query(name), !text.isEmpty else { return nil }
        guard let id = EntityID<Entity>.parse(text) else { throw PartnerError.validation("\(name) must be a UUID") }
        return id
    }
}

/// A body that carries nothing (PUT/DELETE of the freeze permission).
struct EmptyBody: Decodable, Sendable {}
