import Foundation
import PartnerCore
import Postgres
import TestSupport
import Testing

/// Records one issue per invariant of DESIGN §3 that the database breaks now.
func assertInvariants(_ client: PostgresClient, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let broken = try await client.withConnection { try Invariants.violations($0) }
    for (name, rows) in broken.sorted(by: { $0.key < $1.key }) {
        Issue.record("invariant broken: \(name) (\(rows) rows)", sourceLocation: sourceLocation)
    }
}

/// Runs `body`, which must be refused with `code`, and proves the refusal changed nothing:
/// every table a request can touch has the same rows afterwards. `includingCodes: false`
/// leaves the verification codes out (a wrong code's attempt is written on purpose).
@discardableResult
func expectRefusal<R>(
    _ code: PartnerError.Code, _ client: PostgresClient, includingCodes: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> R
) async throws -> PartnerError? {
    let before = try await DatabaseState.capture(client, includingCodes: includingCodes)
    let error = await #expect(throws: PartnerError.self, sourceLocation: sourceLocation) { _ = try await body() }
    #expect(error?.code == code, "expected \(code.rawValue), got \(String(describing: error))", sourceLocation: sourceLocation)
    let after = try await DatabaseState.capture(client, includingCodes: includingCodes)
    #expect(after == before, "a refused request changed \(after.changedTables(since: before))", sourceLocation: sourceLocation)
    return error
}
