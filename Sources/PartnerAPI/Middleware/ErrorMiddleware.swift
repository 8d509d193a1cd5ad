import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PartnerCore

/// The outermost middleware: gives each request its id (a client's `X-Request-ID` when it
/// is sane), logs it, and turns every error into the JSON error body — so no request ever
/// answers with an HTML page, a stack trace, or a bare 500.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let given = request.headers[.requestID], (1...128).contains(given.count),
            given.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) })
        {
            context.requestID = given
        }
        context.logger[metadataKey: "request_id"] = "\(context.requestID)"
        let clock = ContinuousClock()
        let start = clock.now
        var response: Response
        do {
            response = try await next(request, context)
            response.headers[.requestID] = context.requestID
        } catch {
            let partnerError = ErrorMapping.partnerError(from: error)
            if partnerError.code == .serviceUnavailable {
                context.logger.warning("request failed", metadata: ["error": "\(error)"])
            }
            response = APIResponse(error: partnerError).response(requestID: context.requestID)
        }
        let elapsed = clock.now - start
        context.logger.info("\(request.method) \(request.uri.path) \(response.status.code)", metadata: [
            "status": "\(response.status.code)",
            "ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
        ])
        return response
    }
}
