import Foundation
import PartnerCore
import Postgres
import Testing

/// DESIGN §3 invariant 8: 503 means the database is unavailable and nothing else; what the
/// database refused as data is the client's 422; anything else is a bug, 500.
@Suite("Errors to API codes")
struct ErrorMappingTests {
    struct Unexpected: Error {}

    @Test func onlyAnUnavailableDatabaseIsServiceUnavailable() {
        for code in [PostgresError.Code.connectionFailed, .connectionLost, .poolTimeout, .clientClosed] {
            #expect(PartnerError.from(PostgresError(code: code, message: "down")).code == .serviceUnavailable, "\(code)")
        }
        for state in ["55P03", "57014", "40001", "40P01", "57P01"] {  // lock, statement timeout, serialization, deadlock, shutdown
            #expect(PartnerError.from(PostgresError(code: .server, message: "x", sqlState: state)).code == .serviceUnavailable, "\(state)")
        }
    }

    @Test func dataTheDatabaseRefusedIsAValidationFailure() {
        for state in ["23505", "23514", "22008", "22P02"] {
            #expect(PartnerError.from(PostgresError(code: .server, message: "x", sqlState: state)).code == .validationFailed, "\(state)")
        }
    }

    @Test func anythingElseIsAnInternalError() {
        #expect(PartnerError.from(Unexpected()).code == .internalError)
        #expect(PartnerError.from(PostgresError(code: .decoding, message: "a five-digit year")).code == .internalError)
        #expect(PartnerError.from(PostgresError(code: .server, message: "undefined column", sqlState: "42703")).code == .internalError)
    }
}
