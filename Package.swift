// swift-tools-version:6.1
import PackageDescription

// Dependency direction (DESIGN.md §1): C shims → PGKit / AuthCrypto → AuthCore → AuthHTTP → authd;
// AuthEvents → PGKit (+ AuthCore's event types). Heavy packages (jwt-kit, async-http-client) are
// added by the issue whose code first needs them: every one of them costs minutes of CI build time.
let package = Package(
    name: "authd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "authd", targets: ["authd"]),
        .library(name: "PGKit", targets: ["PGKit"]),
        .library(name: "AuthCore", targets: ["AuthCore"]),
        .library(name: "AuthEvents", targets: ["AuthEvents"]),
        // For backends: verifies authd's access tokens locally and follows revocations.
        .library(name: "AuthClient", targets: ["AuthClient"]),
        .executable(name: "notes-api", targets: ["notes-api"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // C libraries: a module map and a shim header each, nothing else.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CArgon2", pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),
        // argon2id itself for p=1: Debian's libargon2 is the portable build without SIMD, about
        // 1.5 × slower than libsodium's (AVX2 chosen at run time) with byte-identical output.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        .target(
            name: "PGKit",
            dependencies: [
                "CLibPQ", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "AuthCrypto",
            dependencies: [
                "CArgon2", "CSodium", "COpenSSL",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The migration files, as resources (Migrations/global, Migrations/tenant).
        .target(name: "AuthMigrations", path: "Migrations", resources: [.copy("global"), .copy("tenant")]),
        .target(
            name: "AuthCore",
            dependencies: [
                "PGKit", "AuthCrypto", "AuthMigrations",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                // Identity providers call issuers and user APIs (JWKS, code exchange, /user).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            resources: [.copy("Resources/common-passwords.txt")]
        ),
        .target(
            name: "AuthEvents",
            dependencies: [
                "PGKit", "AuthCore", "AuthCrypto",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "AuthHTTP",
            dependencies: [
                "AuthCore", "AuthMigrations",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // The OpenAPI 3.1 document served at /auth/openapi.json.
            resources: [.copy("Resources/openapi.json")]
        ),
        .executableTarget(
            name: "authd",
            dependencies: [
                "AuthHTTP", "AuthCore", "AuthCrypto", "AuthEvents", "PGKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Backends link this, not AuthCore: no stores, no pool, no argon2 — a LISTEN connection
        // and one reading connection of its own (PGKit), jwt-kit, and a Hummingbird middleware.
        .target(
            name: "AuthClient",
            dependencies: [
                "PGKit",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Examples/notes-api: a tiny backend protected by AuthClient (library + executable).
        .target(
            name: "NotesAPI",
            dependencies: ["AuthClient", .product(name: "Hummingbird", package: "hummingbird")],
            path: "Examples/notes-api/Sources/NotesAPI"
        ),
        .executableTarget(
            name: "notes-api",
            dependencies: [
                "AuthClient", "NotesAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/notes-api/Sources/notes-api"
        ),
        .executableTarget(
            name: "authd-bench",
            dependencies: [
                "PGKit", "AuthCrypto", "AuthCore", "AuthEvents", "CArgon2", "CSodium", "AuthClient", "NotesAPI", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Benchmarks/authd-bench"
        ),

        .target(
            name: "TestSupport",
            dependencies: ["PGKit", "AuthCore", "AuthCrypto"],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "PGKitTests", dependencies: ["PGKit", "CLibPQ", "TestSupport"]),
        .testTarget(name: "AuthCryptoTests", dependencies: ["AuthCrypto", "CArgon2", "CSodium"]),
        .testTarget(name: "AuthCoreTests", dependencies: ["AuthCore", "PGKit", "TestSupport"]),
        .testTarget(
            name: "AuthHTTPTests",
            dependencies: [
                "AuthHTTP", "AuthCore", "AuthCrypto", "PGKit", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                // RSA keys for the fake issuer (Google signs id tokens with RS256).
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "authdTests",
            dependencies: [
                "TestSupport", "AuthCore", "AuthCrypto", "PGKit", "AuthClient", "NotesAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(
            name: "AuthEventsTests",
            dependencies: [
                "AuthEvents", "AuthCore", "AuthCrypto", "PGKit", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ]
)
