import AuthCore
import Hummingbird

/// `GET /health/live` (the process answers) and `GET /health/ready` (the database is reachable
/// and every schema is migrated: a load balancer should route traffic only then).
public struct HealthRoutes<Context: RequestContext>: Sendable {
    /// Reports how far the database is behind; throws when it cannot be reached.
    public typealias ReadinessCheck = @Sendable () async throws -> DatabaseMigrator.Status

    let readiness: ReadinessCheck

    public init(readiness: @escaping ReadinessCheck) {
        self.readiness = readiness
    }

    public func register(on router: Router<Context>) {
        router.get("/health/live") { _, _ in
            HealthStatus(status: "ok")
        }
        router.get("/health/ready") { _, context -> HealthStatus in
            let status: DatabaseMigrator.Status
            do {
                status = try await readiness()
            } catch let error as AuthError {
                throw error
            } catch {
                context.logger.warning("readiness check failed", metadata: ["error": "\(error)"])
                throw AuthError.notReady("database unreachable")
            }
            guard status.isUpToDate else {
                throw AuthError.notReady(
                    "migrations pending: \(status.globalPending.count) global, \(status.tenantsBehind.count) tenant schema(s); run `authd migrate`")
            }
            return HealthStatus(status: "ok")
        }
    }
}

/// The body of a healthy answer.
struct HealthStatus: ResponseEncodable {
    var status: String
}
