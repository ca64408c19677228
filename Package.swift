// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

/// An HTTP/1.1 server on SwiftNIO, with logging: the emulator's and `sfpg serve`'s.
let httpServer: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "Logging", package: "swift-log"),
]

let package = Package(
    name: "sfpg",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sfpg", targets: ["sfpg"]),
        // Development tools, kept out of the production binary (no emulator, no benchmark code in sfpg; SwiftNIO
        // only for `sfpg serve`'s HTTP endpoints).
        .executable(name: "sfpg-emulator", targets: ["sfpg-emulator"]),
        .executable(name: "sfpg-bench", targets: ["sfpg-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        // Salesforce's Pub/Sub API (issue #20) is gRPC: the client's subscriber and the emulator's server.
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // C libraries. The shims are static inline functions in the module-map headers, so no C target is built.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // The emulator's `--tls`: libssl from the same libssl-dev that already provides libcrypto, driven through
        // memory BIOs in one small NIO handler. Chosen over swift-nio-ssl, whose BoringSSL build would add minutes
        // to every clean build and CI run for a test-only feature.
        .systemLibrary(name: "CLibSSL", pkgConfig: "libssl", providers: [.apt(["libssl-dev"])]),

        // The one rule for reading settings (trimmed; blank = unset) and the one duration grammar, shared by the
        // executables' settings readers, the client's configuration and job files.
        .target(
            name: "SettingsSyntax",
            swiftSettings: swiftSettings
        ),
        // Calendar arithmetic and Salesforce's datetime spellings, for the client and the emulator alike.
        .target(name: "CivilTime", swiftSettings: swiftSettings),
        // Change events of the Pub/Sub API (issue #20) arrive Avro-encoded; no Swift Avro library is available.
        .target(name: "Avro", swiftSettings: swiftSettings),
        // Salesforce's `pubsub_api.proto` (eventbus.v1.PubSub) as generated Swift: messages plus client and server
        // stubs, generated once by scripts/generate-pubsub-api and committed (the protoc plugins take minutes to build).
        .target(
            name: "PubSubAPI",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        // The client's subscriber of the Pub/Sub API: topic and schema lookups, flow-controlled subscriptions that
        // yield decoded change events (issue #20). TLS to Salesforce through swift-nio-ssl, the transport's own.
        .target(
            name: "PubSubClient",
            dependencies: [
                "PubSubAPI", "Avro", "SalesforceClient", "SettingsSyntax",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PostgresLoader",
            dependencies: ["CLibPQ", "SettingsSyntax", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // A private PostgreSQL cluster (initdb + pg_ctl) for tests, the demo and the benchmarks; not used by runs.
        .target(
            name: "LocalPostgres",
            dependencies: ["PostgresLoader"],
            swiftSettings: swiftSettings
        ),
        // One small blocking HTTP request (libcurl) for side channels: the Pushgateway, the emulator's admin API.
        .target(
            name: "PlainHTTP",
            dependencies: ["CCurl"],
            swiftSettings: swiftSettings
        ),
        // Prometheus text format (Pushgateway, node-exporter textfile) for `sfpg run`'s metrics.
        .target(
            name: "Metrics",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SalesforceClient",
            dependencies: [
                "CCurl", "CivilTime", "SettingsSyntax", "COpenSSL", "CZlib",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The emulator shares no wire code with the client (it must not inherit the client's assumptions about the
        // wire), only calendar arithmetic.
        .target(
            name: "SalesforceEmulator",
            dependencies: [
                "CivilTime", "CZlib", "COpenSSL", "CLibSSL", "PubSubAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            ] + httpServer,
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SyncEngine",
            dependencies: [
                "PostgresLoader", "SalesforceClient", "SettingsSyntax", "Avro", "CivilTime",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // `sfpg serve`: the long-running process (HTTP endpoints on SwiftNIO, schedules, one active replica).
        .target(
            name: "Serve",
            dependencies: [
                "SyncEngine", "PostgresLoader", "SalesforceClient", "Metrics", "PubSubClient", "Avro",
            ] + httpServer,
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sfpg",
            dependencies: [
                "Serve", "SyncEngine", "PostgresLoader", "SalesforceClient", "LocalPostgres", "PlainHTTP", "Metrics",
                "SettingsSyntax", "PubSubClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // `sfpg demo` starts this as a child process; tests and benchmarks use it too.
        .executableTarget(
            name: "sfpg-emulator",
            dependencies: [
                "SalesforceEmulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The load benchmark's measuring tool (scripts/bench-load, scripts/bench-sync).
        .executableTarget(
            name: "sfpg-bench",
            dependencies: [
                "SyncEngine", "PostgresLoader", "SettingsSyntax",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "TestSupport",
            dependencies: ["PostgresLoader", "LocalPostgres", "SalesforceEmulator", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "AvroTests", dependencies: ["Avro"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PubSubClientTests",
            dependencies: ["PubSubClient", "SalesforceEmulator", "SalesforceClient", "TestSupport", "Avro"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MetricsTests",
            dependencies: ["Metrics"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresLoaderTests",
            dependencies: ["PostgresLoader", "LocalPostgres", "TestSupport", "SettingsSyntax"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SalesforceEmulatorTests",
            dependencies: ["CivilTime", "SalesforceEmulator", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SalesforceClientTests",
            dependencies: ["SalesforceClient", "SalesforceEmulator", "TestSupport", "SettingsSyntax"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SyncEngineTests",
            dependencies: [
                "SyncEngine", "Serve", "SalesforceEmulator", "PostgresLoader", "SalesforceClient", "TestSupport", "PlainHTTP",
                "SettingsSyntax", "Avro", "CivilTime",
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
