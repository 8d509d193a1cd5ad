import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PartnerCore

/// The outermost middleware: gives each request its id (a client's `X-Request-ID` when it
/// is sane), logs it, and turns every error into the JSON error body — so no request ever
/// answers with an HTML page, a stack trace, or a bare 500.
///
/// The request id goes into each log call's metadata rather than into the logger: setting
/// logger metadata makes the stream handler re-render all of it, on every request, even
/// when nothing is logged.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let given = request.headers[.requestID], (1...128).contains(given.count),
            given.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) })
        {
            context.requestID = given
        }
        let clock = ContinuousClock()
        let start = clock.now
        var response: Response
        do {
            response = try await next(request, context)
            response.headers[.requestID] = context.requestID
        } catch {
            let partnerError = ErrorMapping.partnerError(from: error)
            switch partnerError.code {
            case .serviceUnavailable:
                context.logger.warning("request failed", metadata: ["request_id": "\(context.requestID)", "error": "\(error)"])
            case .internalError:
                // A bug: logged with what went wrong (the driver's debug description adds the
                // server's message and detail, which may quote the value that failed, never
                // the statement's text) and counted, so it is seen and fixed.
                context.logger.error("internal error", metadata: [
                    "request_id": "\(context.requestID)", "error": "\(String(reflecting: error))",
                ])
                AppMetrics.internalErrors.increment()
            default:
                break
            }
            response = APIResponse(error: partnerError).response(requestID: context.requestID)
        }
        let elapsed = clock.now - start
        context.logger.info("\(request.method) \(request.uri.path) \(response.status.code)", metadata: [
            "request_id": "\(context.requestID)",
            "status": "\(response.status.code)",
            "ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
        ])
        return response
    }
}
