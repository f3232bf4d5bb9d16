/// A consumer group's stored snapshot lies ahead of the database's transaction ids: the
/// database was restored from a dump into a new cluster, whose ids start lower. Advancing would
/// store the lower snapshot and skip every event written since, so it is refused until an
/// operator runs `authd events reset-snapshots` (see the README's runbook).
public struct SnapshotsNeedReset: Error, CustomStringConvertible {
    public let group: String

    public var description: String {
        "consumer group \(group): the database's transaction ids went backwards (restored from a dump?); "
            + "events are held, not skipped — run `authd events reset-snapshots` to re-base the groups"
    }
}
