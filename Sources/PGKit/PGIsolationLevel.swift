/// Transaction isolation levels, spelled as `BEGIN ISOLATION LEVEL …` takes them.
public enum PGIsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}
