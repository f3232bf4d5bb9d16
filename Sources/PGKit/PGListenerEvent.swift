/// What a `PGListener` subscriber receives.
public enum PGListenerEvent: Sendable, Equatable {
    /// A NOTIFY on one of the subscribed channels.
    case notification(channel: String, payload: String, senderPID: Int32)
    /// Notifications may have been missed: re-read the tables they point at.
    case resync(ResyncReason)

    public enum ResyncReason: Sendable, Equatable {
        /// The subscription's channels are now being listened to (the first event of every
        /// subscription): anything earlier is only in the tables.
        case subscribed
        /// The connection was lost and re-established; NOTIFYs sent meanwhile are gone.
        case reconnected
        /// The subscriber fell behind and its buffer overflowed; buffered events were dropped.
        case overflow
    }
}
