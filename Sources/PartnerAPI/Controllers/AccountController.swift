import Hummingbird
import PartnerCore

/// The caller's own settings, the agreement text, and verification codes.
struct AccountController {
    let services: PartnerServices
    let endpoint: Endpoint

    func register(on router: RouterGroup<AppRequestContext>) {
        let services = self.services
        let endpoint = self.endpoint
        router.get("settings") { request, context in
            try await endpoint.read(request, context) { principal in
                try APIResponse(.ok, try await services.settings.get(principal))
            }
        }
        router.patch("settings") { request, context in
            try await endpoint.write(request, context, as: SettingsBody.self, status: .ok) { change, body in
                try await services.settings.update(
                    verificationCodeRequired: body.verificationCodeRequired, verificationCode: body.verificationCode, context: change)
            }
        }
        router.get("agreement") { request, context in
            try await endpoint.read(request, context) { _ in
                try APIResponse(.ok, try await services.agreements.current())
            }
        }
        router.post("verification-codes") { request, context in
            try await endpoint.write(request, context, as: VerificationCodeBody.self, status: .accepted) { change, body in
                try await services.verificationCodes.issue(for: change.principal, purpose: body.purpose)
            }
        }
    }
}
