import Foundation
import Postgres

/// Every service over one database client: what the HTTP layer and the command line share.
public struct PartnerServices: Sendable {
    public let client: PostgresClient
    public let provisioning: Provisioning
    public let apiKeys: APIKeys
    public let grants: Grants
    public let customers: Customers
    public let resources: Resources
    public let restrictions: Restrictions
    public let purchases: PurchaseGate
    public let verificationCodes: VerificationCodes
    public let settings: Settings
    public let agreements: Agreements
    public let idempotency: Idempotency
    public let auditLog: AuditLog
    public let outbox: Outbox
    public let retentionPolicies: RetentionPolicies
    public let prices: Prices
    public let budgets: Budgets
    public let budgetSettlement: BudgetSettlement
    public let webhooks: Webhooks
    /// Shared by the purchase gate (which fills it) and restrictions (which clear it).
    public let refusals: RefusalCache

    public init(
        client: PostgresClient, codeDelivery: VerificationCodeDelivery, codeSecret: CodeSecret = CodeSecret(configured: nil),
        codeResendInterval: TimeInterval = 10, codeIssuesPerHour: Int = 10, refusalLifetime: Duration = .seconds(1),
        maximumSpecBytes: Int = 16_384,
        idempotencyLeaseSeconds: Double = 10, webhookKey: WebhookSecretKey = WebhookSecretKey(configured: nil), production: Bool = false
    ) {
        self.client = client
        self.refusals = RefusalCache(lifetime: refusalLifetime)
        self.provisioning = Provisioning(client: client)
        self.apiKeys = APIKeys(client: client)
        self.grants = Grants(client: client)
        self.customers = Customers(client: client)
        self.resources = Resources(client: client)
        self.verificationCodes = VerificationCodes(
            client: client, delivery: codeDelivery, secret: codeSecret, resendInterval: codeResendInterval,
            issuesPerHour: codeIssuesPerHour)
        self.restrictions = Restrictions(client: client, refusals: refusals, codes: verificationCodes)
        self.purchases = PurchaseGate(client: client, refusals: refusals, maximumSpecBytes: maximumSpecBytes)
        self.settings = Settings(client: client, codes: verificationCodes)
        self.agreements = Agreements(client: client)
        self.idempotency = Idempotency(client: client, leaseSeconds: idempotencyLeaseSeconds)
        self.auditLog = AuditLog(client: client)
        self.outbox = Outbox(client: client)
        self.retentionPolicies = RetentionPolicies(client: client)
        self.prices = Prices(client: client)
        self.budgets = Budgets(client: client, codes: verificationCodes, refusals: refusals)
        self.budgetSettlement = BudgetSettlement(client: client, refusals: refusals)
        self.webhooks = Webhooks(client: client, key: webhookKey, production: production)
    }
}
