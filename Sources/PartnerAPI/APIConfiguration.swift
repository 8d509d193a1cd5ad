import Foundation
import PartnerCore

/// Settings of the HTTP backend, from flags and environment (see `partner-center serve`).
public struct APIConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// `development`, `test` or `production`; production refuses unsafe settings.
    public var environment: String
    public var codeDelivery: VerificationCodeDelivery
    /// Largest request body accepted (DESIGN: 1 MiB, then 413 `payload_too_large`).
    public var maximumBodySize: Int
    /// How long an authenticated key is trusted before it is looked up again, so a revoked
    /// key stops working within this time.
    public var principalCacheSeconds: Double
    /// Serve the console from this folder instead of the bundled copy (for editing it).
    public var consoleDirectory: String?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, environment: String = "development",
        codeDelivery: VerificationCodeDelivery, maximumBodySize: Int = 1 << 20, principalCacheSeconds: Double = 5,
        consoleDirectory: String? = nil
    ) {
        self.consoleDirectory = consoleDirectory
        self.host = host
        self.port = port
        self.environment = environment
        self.codeDelivery = codeDelivery
        self.maximumBodySize = maximumBodySize
        self.principalCacheSeconds = principalCacheSeconds
    }
}
