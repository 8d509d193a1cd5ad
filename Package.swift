// swift-tools-version:6.0
import PackageDescription

/// Strict Swift 6 everywhere: the language mode of tools 6.0 plus explicit `any`.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "PartnerCenter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "partner-center", targets: ["partner-center"]),
        .library(name: "Postgres", targets: ["Postgres"]),
        .library(name: "PartnerCore", targets: ["PartnerCore"]),
        .library(name: "PartnerAPI", targets: ["PartnerAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(name: "CEpoll"),
        .systemLibrary(name: "CRandom"),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                "CEpoll",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The schema migrator beside the driver, not in it: the driver needs no hashing library.
        .target(
            name: "PostgresMigrations",
            dependencies: [
                "Postgres",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PartnerCore",
            dependencies: [
                "CRandom",
                "Postgres",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PartnerAPI",
            dependencies: [
                "PartnerCore",
                "Postgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "partner-center",
            dependencies: [
                "PartnerAPI",
                "PartnerCore",
                "Postgres",
                "PostgresMigrations",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "postgres-leak-check",
            dependencies: ["Postgres"],
            swiftSettings: strict
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Postgres", "PartnerCore"],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "PostgresMigrations", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PartnerCoreTests",
            dependencies: ["PartnerCore", "Postgres", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PartnerAPITests",
            dependencies: [
                "PartnerAPI", "PartnerCore", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
    ]
)
