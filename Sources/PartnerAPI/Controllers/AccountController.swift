import Hummingbird
import PartnerCore

/// The caller's own settings, the agreement text, and verification codes.
struct AccountController: Sendable {
    let settings: Settings
    let agreements: Agreements
    let verificationCodes: VerificationCodes
    let endpoint: Endpoint

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .get("settings", use: getSettings)
            .patch("settings", use: updateSettings)
            .get("agreement", use: getAgreement)
            .post("verification-codes", use: issueVerificationCode)
    }

    /// GET /v1/settings
    @Sendable func getSettings(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.read(request, context) { principal in
            try APIResponse(.ok, try await settings.get(principal))
        }
    }

    /// PATCH /v1/settings
    @Sendable func updateSettings(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.write(request, context, as: SettingsBody.self, status: .ok) { change, body in
            try await settings.update(
                verificationCodeRequired: body.verificationCodeRequired, verificationCode: body.verificationCode, context: change)
        }
    }

    /// GET /v1/agreement: the current text, which any principal may read.
    @Sendable func getAgreement(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.read(request, context) { _ in
            try APIResponse(.ok, try await agreements.current())
        }
    }

    /// POST /v1/verification-codes: a code sent to the caller for the named purpose.
    @Sendable func issueVerificationCode(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await endpoint.write(request, context, as: VerificationCodeBody.self, status: .accepted) { change, body in
            try await verificationCodes.issue(for: change.principal, purpose: body.purpose)
        }
    }
}
