import Foundation
import Postgres

/// The id of one kind of thing: a `CustomerID` cannot be passed where a `PartnerID` is
/// asked for, so `canSee(customerID:partnerID:distributorID:)` cannot be called with its
/// three arguments in the wrong order, and a service's signature says which id it takes.
///
/// `Entity` is a phantom: only the UUID is stored. On the wire and in the database an id is
/// its UUID (`uuid` in SQL; in the API's answers lowercase text, as `JSONStreamEncoder`
/// writes it, while Foundation's `JSONEncoder` writes the UUID's uppercase); any case is
/// accepted on input.
public struct EntityID<Entity>: Hashable, Sendable, Codable, CustomStringConvertible {
    public let uuid: UUID

    public init(_ uuid: UUID) { self.uuid = uuid }

    /// A new random id (UUID version 4).
    public static func random() -> Self { Self(UUID.random()) }

    /// Parses a UUID in any case; nil for anything else.
    public static func parse(_ text: String) -> Self? { UUID.parse(text).map(Self.init) }

    public var description: String { lowercasedString }

    /// The UUID in lowercase (RFC 9562), as answers, events and audit details carry it.
    public var lowercasedString: String { uuid.lowercasedString }

    public init(from decoder: any Decoder) throws {
        uuid = try decoder.singleValueContainer().decode(UUID.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(uuid)
    }
}

public typealias DistributorID = EntityID<Distributor>
public typealias PartnerID = EntityID<Partner>
public typealias CustomerID = EntityID<Customer>
public typealias ResourceID = EntityID<Resource>
public typealias RestrictionID = EntityID<Restriction>

/// Bound and read as the `uuid` it is.
extension EntityID: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public var postgresParameter: PostgresParameter { uuid.postgresParameter }
    public init(postgresText text: Substring) throws { self.init(try UUID(postgresText: text)) }
    public static var postgresArrayOID: UInt32 { UUID.postgresArrayOID }
    public var postgresArrayLiteral: String { uuid.postgresArrayLiteral }
}
