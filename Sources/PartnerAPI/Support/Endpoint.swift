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

    /// A write with a JSON body of type `Body` (an empty body reads as `{}`).
    func write<Body: Decodable & Sendable>(
        _ request: Request, _ context: AppRequestContext, as body: Body.Type,
        _ handler: @escaping @Sendable (ChangeContext, Body) async throws -> APIResponse
    ) async throws -> Response {
        let change = try context.change()
        var request = request
        let bytes: ByteBuffer
        do {
            bytes = try await request.collectBody(upTo: maximumBodySize)
        } catch {
            throw PartnerError(.payloadTooLarge, "the request body is larger than 1 MiB")
        }
        let data = bytes.readableBytes == 0 ? Data("{}".utf8) : Data(buffer: bytes)
        let run: @Sendable () async throws -> APIResponse = {
            let decoded: Body
            do {
                decoded = try JSONCoding.decoder.decode(Body.self, from: data)
            } catch let error as DecodingError {
                throw PartnerError(.validationFailed, ErrorMapping.describe(error))
            }
            return try await handler(change, decoded)
        }
        guard let key = request.headers[.idempotencyKey] else {
            return try await run().response(requestID: context.requestID)
        }
        return try await idempotent(key: key, request: request, body: data, principal: change.principal, run)
            .response(requestID: context.requestID)
    }

    /// Runs `work` once per key: the first answer (success or a client error) is stored and
    /// replayed; a server-side failure gives the key back so a retry can do the work.
    private func idempotent(
        key: String, request: Request, body: Data, principal: Principal, _ work: () async throws -> APIResponse
    ) async throws -> APIResponse {
        var hasher = SHA256()
        hasher.update(data: Data("\(request.method.rawValue) \(request.uri.path)\n".utf8))
        hasher.update(data: body)
        let hash = Data(hasher.finalize())
        switch try await idempotency.claim(principal, key: key, requestHash: hash) {
        case .replay(let status, let stored):
            var response = APIResponse(status: HTTPResponse.Status(code: status), body: Data(stored.utf8))
            response.headers[.idempotentReplay] = "true"
            return response
        case .proceed:
            let response: APIResponse
            do {
                response = try await work()
            } catch {
                let partnerError = ErrorMapping.partnerError(from: error)
                guard partnerError.code != .serviceUnavailable else {
                    try? await idempotency.release(principal, key: key)
                    throw error
                }
                response = APIResponse(error: partnerError)
            }
            try await idempotency.complete(
                principal, key: key, status: response.status.code, body: String(decoding: response.body, as: UTF8.self))
            return response
        }
    }
}

/// Path and query parameters, with the API's errors: a path id that is not a UUID names
/// nothing (404); a bad query value is 422.
extension AppRequestContext {
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

    func uuidQuery(_ name: String) throws -> UUID? {
        guard let text = query(name), !text.isEmpty else { return nil }
        guard let id = UUID.parse(text) else { throw PartnerError.validation("\(name) must be a UUID") }
        return id
    }
}

/// A body that carries nothing (PUT/DELETE of the freeze permission).
struct EmptyBody: Decodable, Sendable {}
