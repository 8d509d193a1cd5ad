import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The partner console: static HTML, CSS and JavaScript served at `/console`, calling the
/// public API only. The files are read once at start-up (from the module's resources, or a
/// folder given with `--console-dir` while editing them), so serving never touches the disk.
///
/// Every answer carries a Content-Security-Policy without inline script: the console renders
/// server strings as text, and the policy is the second line of defence.
struct ConsoleController: Sendable {
    struct Asset: Sendable {
        var contentType: String
        var bytes: ByteBuffer
    }

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

    let assets: [String: Asset]

    init(directory: String?) {
        let folder: URL?
        if let directory {
            folder = URL(fileURLWithPath: directory, isDirectory: true)
        } else {
            folder = Bundle.module.url(forResource: "console", withExtension: nil, subdirectory: "Resources")
                ?? Bundle.module.url(forResource: "console", withExtension: nil)
        }
        var assets: [String: Asset] = [:]
        let types = ["html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
                     "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml"]
        if let folder, let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) {
            for name in names {
                guard let type = types[(name as NSString).pathExtension],
                    let data = try? Data(contentsOf: folder.appendingPathComponent(name))
                else { continue }
                assets[name] = Asset(contentType: type, bytes: ByteBuffer(bytes: data))
            }
        }
        self.assets = assets
    }

    var endpoints: RouteCollection<AppRequestContext> {
        RouteCollection(context: AppRequestContext.self)
            .get("console", use: index)
            .get("console/:file", use: file)
    }

    /// GET /console
    @Sendable func index(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try serve("index.html")
    }

    /// GET /console/:file: only a file read at start-up; anything else is 404.
    @Sendable func file(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try serve(context.parameters.get("file") ?? "")
    }

    private func serve(_ name: String) throws -> Response {
        guard let asset = assets[name] else { throw HTTPError(.notFound) }
        return Response(
            status: .ok,
            headers: [
                .contentType: asset.contentType, .contentSecurityPolicy: Self.contentSecurityPolicy,
                .xContentTypeOptions: "nosniff", .cacheControl: "no-cache", .referrerPolicy: "no-referrer",
            ],
            body: .init(byteBuffer: asset.bytes))
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
