import Foundation

/// A subscription as its owner reads it: never its secret.
public struct Webhook: Sendable, Codable, Equatable {
    public var id: UUID
    public var url: String
    /// The event types sent; nil: every type.
    public var eventTypes: [String]?
    /// The secret's first characters, to tell secrets apart.
    public var secretPrefix: String
    public var createdAt: Date
    /// When the next attempt is due, and how many times the next event failed so far.
    public var nextAttemptAt: Date
    public var failedAttempts: Int
}

/// A new subscription: its secret is in this answer and nowhere else.
public struct CreatedWebhook: Sendable, Codable, Equatable {
    public var id: UUID
    public var url: String
    public var eventTypes: [String]?
    /// Nil only in the stored form an `Idempotency-Key` replay answers.
    public var secret: String?
    public var secretPrefix: String
    public var createdAt: Date
}

extension CreatedWebhook: ShownOnce {
    /// What a replay answers: everything but the secret, which is kept only sealed (a
    /// replay that needs it deletes the subscription and makes another).
    public var storedForm: any Encodable & Sendable {
        var replayed = self
        replayed.secret = nil
        return replayed
    }
}

/// Whether an attempt delivered the event, will be retried, or was the last one.
public enum WebhookOutcome: String, Sendable, Codable {
    case delivered, retrying, failed
}

/// One attempt to deliver one event.
public struct WebhookAttempt: Sendable, Codable, Equatable {
    public var id: Int64
    public var eventId: Int64
    public var eventType: String
    public var attempt: Int
    public var attemptedAt: Date
    public var durationMs: Int
    /// The receiver's HTTP status, nil when none came (a timeout, a refused connection).
    public var statusCode: Int?
    public var error: String?
    public var outcome: WebhookOutcome
    public var nextRetryAt: Date?
}
