import AuthCore
import AuthHTTP
import Hummingbird
import HummingbirdTesting
import PGKit
import TestSupport
import Testing
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// `/health/*` and the error envelope, against real databases.
@Suite struct HealthRoutesTests {
    func app(_ pool: PGPool) throws -> some ApplicationProtocol {
        let migrator = DatabaseMigrator(registry: try TestDatabase.registry(pool))
        return Application(router: AuthHTTPServer.makeRouter(readiness: { try await migrator.status() }))
    }

    @Test func liveAndReadyWhenMigrated() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool(size: 2) { pool in
            try await app(pool).test(.router) { client in
                try await client.execute(uri: "/health/live", method: .get) { response in
                    #expect(response.status == .ok)
                }
                try await client.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("ok"))
                }
            }
        }
    }

    @Test func notReadyWhilePendingMigrationsThenReady() async throws {
        let db = try await TestDatabases.shared.blank()
        try await db.withPool(size: 2) { pool in
            try await app(pool).test(.router) { client in
                try await client.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let body = try JSONDecoder().decode(ErrorEnvelope.self, from: Data(buffer: response.body))
                    #expect(body.statusCode == 503)
                    #expect(body.code == "NOT_READY")
                }
                try await DatabaseMigrator(registry: try TestDatabase.registry(pool)).migrate()
                try await client.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    @Test func notReadyWhenTheDatabaseIsUnreachable() async throws {
        let pool = PGPool(.init(conninfo: "host=127.0.0.1 port=1 connect_timeout=2 sslmode=disable", size: 1))
        try await app(pool).test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = String(buffer: response.body)
                #expect(body.contains("NOT_READY"))
                #expect(!body.contains("port=1"))  // no connection details leak
            }
        }
        await pool.shutdown()
    }

    @Test func unknownRouteGetsTheEnvelope() async throws {
        let pool = PGPool(.init(conninfo: "host=127.0.0.1 port=1 sslmode=disable", size: 1))
        try await app(pool).test(.router) { client in
            try await client.execute(uri: "/no/such/route", method: .get) { response in
                #expect(response.status == .notFound)
                let body = try JSONDecoder().decode(ErrorEnvelope.self, from: Data(buffer: response.body))
                #expect(body == ErrorEnvelope(statusCode: 404, code: "NOT_FOUND", message: body.message))
            }
        }
        await pool.shutdown()
    }
}
