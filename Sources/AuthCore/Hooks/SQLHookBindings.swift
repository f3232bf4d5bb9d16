import Logging
import PGKit

/// In-transaction hook points bound by configuration to SQL functions (DESIGN.md §4, "Hooks
/// without writing Swift"): `fn(payload jsonb) returns jsonb`, called schema-qualified and quoted
/// on the flow's own connection inside its transaction, under `SET LOCAL statement_timeout`.
///
/// `RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'CODE', DETAIL = 'text', HINT = '403'`
/// rejects the flow with that code and status (default 403; only 400–499 honoured). Any other
/// error, or the timeout, answers 500 `HOOK_FAILED`; the detail goes to the log only.
/// Only operators name functions (configuration); tenant admins cannot.
public struct SQLHookBindings: Sendable {
    /// The in-transaction points that can be bound.
    public enum Point: String, Sendable, CaseIterable {
        case beforeCreate = "user.beforeCreate"
        case afterCreate = "user.afterCreate"
        case onSignup = "onSignup"
        case onLogin = "onLogin"
        case beforeUpdate = "user.beforeUpdate"
        case afterUpdate = "user.afterUpdate"
        case beforeDelete = "user.beforeDelete"
        case afterDelete = "user.afterDelete"
    }

    /// A validated `schema.function` name.
    public struct FunctionName: Sendable, Equatable {
        public let schema: String
        public let name: String

        public init(_ qualified: String) throws {
            let parts = qualified.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, parts.allSatisfy(Self.isIdentifier) else {
                throw SQLHookConfigurationError("SQL hook function must be schema.function in lower-case identifiers, got \(qualified)")
            }
            schema = parts[0]
            name = parts[1]
        }

        static func isIdentifier(_ s: String) -> Bool {
            guard let first = s.first, first == "_" || (first.isASCII && first.isLowercase), s.utf8.count <= 63 else { return false }
            return s.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLowercase || $0.isNumber)) }
        }
    }

    public var global: [Point: FunctionName]
    /// Tenant slug → bindings that replace the global ones for that tenant.
    public var perTenant: [String: [Point: FunctionName]]
    public var timeout: Duration

    public init(global: [Point: FunctionName] = [:], perTenant: [String: [Point: FunctionName]] = [:], timeout: Duration = .seconds(2)) {
        self.global = global
        self.perTenant = perTenant
        self.timeout = timeout
    }

    /// Parses `{"user.afterCreate": "app.fn", …, "tenants": {"acme": {"onLogin": "acme.fn"}}}`.
    public static func parse(_ config: JSONObject, timeout: Duration = .seconds(2)) throws -> SQLHookBindings {
        func bindings(_ o: JSONObject) throws -> [Point: FunctionName] {
            var out: [Point: FunctionName] = [:]
            for (key, value) in o where key != "tenants" {
                guard let point = Point(rawValue: key) else {
                    throw SQLHookConfigurationError("unknown SQL hook point \(key); known: \(Point.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                guard let fn = value.stringValue else { throw SQLHookConfigurationError("SQL hook \(key) must name a function") }
                out[point] = try FunctionName(fn)
            }
            return out
        }
        var perTenant: [String: [Point: FunctionName]] = [:]
        for (slug, value) in config["tenants"]?.objectValue ?? [:] { perTenant[slug] = try bindings(value.objectValue) }
        return SQLHookBindings(global: try bindings(config), perTenant: perTenant, timeout: timeout)
    }

    public var isEmpty: Bool { global.isEmpty && perTenant.isEmpty }

    /// The function bound to `point` for `tenant`, if any.
    public func function(for point: Point, tenant: Tenant) -> FunctionName? {
        perTenant[tenant.slug]?[point] ?? global[point]
    }

    /// Calls the bound function, if any; returns its result object (empty when unbound or null).
    public func call(_ point: Point, tenant: Tenant, payload: JSONObject, in tx: PGTransaction, logger: Logger) async throws -> JSONObject? {
        guard let fn = function(for: point, tenant: tenant) else { return nil }
        var body = payload
        body["hook"] = .string(point.rawValue)
        body["tenant"] = .object(["id": .string(tenant.id.uuidString.lowercased()), "slug": .string(tenant.slug)])
        do {
            guard let text = try await SQLHookStore().call(
                schema: fn.schema, function: fn.name, payload: JSONValue.object(body).jsonText, timeout: timeout, in: tx)
            else { return [:] }
            return try JSONValue.parse(text).objectValue
        } catch let error as PGError where error.sqlState == "P0001" {
            // The code travels to clients: `rejection` passes on only a plain upper-case identifier
            // and a 4xx status.
            throw AuthError.rejection(
                code: error.message, status: error.hint.flatMap { Int($0) } ?? 403, message: error.detail ?? "Rejected")
        } catch let error as PGError where error.kind == .invalidParameter || (error.isUnavailable && error.sqlState != "57014") {
            // Not the hook's fault: a value it cannot be given, or the database itself (a timeout,
            // 57014, is the hook's). The usual mapping applies.
            throw error
        } catch {
            logger.error("SQL hook failed", metadata: ["hook": "\(point.rawValue)", "function": "\(fn.schema).\(fn.name)", "error": "\(error)"])
            throw AuthError(.hookFailed, cause: error)
        }
    }
}

/// A malformed SQL hook configuration (refuses start-up).
public struct SQLHookConfigurationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
