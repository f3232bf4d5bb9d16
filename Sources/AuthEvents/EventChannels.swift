import AuthCore

/// The NOTIFY channels authd uses (DESIGN.md §5). NOTIFY carries no event bodies: the outbox
/// table is the truth, a notification only wakes consumers up.
public enum EventChannels {
    /// Poked (empty payload) after commits that appended events to `auth.events`.
    public static let events = EventNotifier.channel
    /// Session ids revoked, broadcast to every process that verifies access tokens.
    public static let revocations = "auth_revocations"
}
