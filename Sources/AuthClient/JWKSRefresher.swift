import ServiceLifecycle

/// Re-reads authd's JWKS every half `maxAge` in the background, so no request waits for a
/// scheduled fetch (a slow or unreachable authd would otherwise hold the requests that arrive
/// while the fetch runs). Only a token naming an unknown `kid` still fetches on the request path.
struct JWKSRefresher: Service {
    let keyring: JWKSKeyring
    let interval: Duration

    func run() async throws {
        await keyring.refresh()
        keyring.refreshedInBackground.withLock { $0 = true }
        defer { keyring.refreshedInBackground.withLock { $0 = false } }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                await keyring.refresh()
            }
        }
    }
}
