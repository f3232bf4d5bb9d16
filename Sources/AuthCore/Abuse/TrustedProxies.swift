/// The proxies whose `X-Forwarded-For` authd believes (`AUTH_TRUSTED_PROXIES`: addresses and
/// CIDR ranges). Without them the client is the socket's peer, whatever the headers say: a
/// header anyone can send must not choose whose rate limit a request counts against.
public struct TrustedProxies: Sendable, Equatable {
    /// One address range: `bytes` with its first `prefix` bits significant.
    public struct Range: Sendable, Equatable {
        public let network: IPAddress
        public let prefix: Int

        /// `10.0.0.0/8`, `2001:db8::/32`, or a single address.
        public init?(_ text: some StringProtocol) {
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let address = IPAddress(parts[0]) else { return nil }
            let bits = address.bytes.count * 8
            if parts.count == 2 {
                guard let prefix = Int(parts[1]), (0...bits).contains(prefix) else { return nil }
                self.prefix = prefix
            } else {
                prefix = bits
            }
            network = address
        }

        public func contains(_ address: IPAddress) -> Bool {
            guard address.bytes.count == network.bytes.count else { return false }
            var left = prefix
            for (a, b) in zip(address.bytes, network.bytes) where left > 0 {
                let mask: UInt8 = left >= 8 ? 0xff : ~(0xff >> UInt8(left))
                if a & mask != b & mask { return false }
                left -= 8
            }
            return true
        }
    }

    public var ranges: [Range]

    public init(_ ranges: [Range] = []) {
        self.ranges = ranges
    }

    /// Parses a comma-separated list; throws naming the first entry that is not an address or range.
    public init(parsing list: String) throws(InvalidEntry) {
        var ranges: [Range] = []
        for entry in list.split(separator: ",") {
            let trimmed = entry.trimmingSpaces
            if trimmed.isEmpty { continue }
            guard let range = Range(trimmed) else { throw InvalidEntry(entry: String(trimmed)) }
            ranges.append(range)
        }
        self.ranges = ranges
    }

    /// An entry of `AUTH_TRUSTED_PROXIES` that is neither an address nor a CIDR range.
    public struct InvalidEntry: Error, Sendable {
        public let entry: String
    }

    public func trusts(_ address: IPAddress) -> Bool {
        ranges.contains { $0.contains(address) }
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy; then the rightmost
    /// `X-Forwarded-For` entry that is not itself a trusted proxy (entries to its left were
    /// written by the client and prove nothing). An entry that is not an address ends the walk
    /// at the last trusted hop before it.
    public func clientAddress(peer: String?, forwardedFor: String?) -> String? {
        // No proxies (the default): the peer as the socket gave it, without parsing on every request.
        guard !ranges.isEmpty, let peerText = peer, var client = IPAddress(peerText) else { return peer }
        guard trusts(client), let forwardedFor else { return client.description }
        for entry in forwardedFor.split(separator: ",").reversed() {
            guard let hop = IPAddress(entry.trimmingSpaces) else { break }
            client = hop
            if !trusts(hop) { break }
        }
        return client.description
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (header list syntax).
    var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
