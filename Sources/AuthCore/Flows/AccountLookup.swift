extension AuthEnvironment {
    /// The account with this normalised address, if it exists and is active (an inactive one is
    /// treated as missing by the code-sending flows: it cannot log in, so a code would only tell
    /// that it exists); nil too when the tenant turned out to be gone.
    func activeUser(_ address: String, channel: OneTimeCodeChannel, tenant: Tenant) async throws -> User? {
        let user = try await LoginFlow.unlessUnknown {
            try await db.tenantStatements(tenant) { db in
                try await users.find(email: channel == .email ? address : nil, phone: channel == .sms ? address : nil, on: db)
            }
        } ?? nil
        return user?.isActive == true ? user : nil
    }
}

extension AuthEnvironment {
    /// A transaction of `statements` placeholder round trips (in the tenant's schema when there
    /// is one): what a public code flow runs for an account or tenant that does not exist, in
    /// place of the statements a real one costs, so the answer's timing does not tell them apart.
    func placeholderTransaction(tenant: Tenant?, statements: Int) async throws {
        if let tenant {
            try await db.inTenant(tenant) { tx in for _ in 0..<statements { try await codes.placeholder(on: tx) } }
        } else {
            try await db.transaction { tx in for _ in 0..<statements { try await codes.placeholder(on: tx) } }
        }
    }
}
