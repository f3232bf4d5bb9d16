#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import AuthCore
import Foundation
import Synchronization

/// `authd listen --consumer log`: each event as one JSON line on standard output.
public enum LogConsumer {
    private static let lock = Mutex(())

    public static func handler() -> EventConsumer.Handler {
        { event in
            let line = JSONLine.encode(event)
            lock.withLock { _ in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        }
    }
}

/// The envelope as one compact JSON line.
enum JSONLine {
    static func encode(_ event: EventEnvelope) -> String {
        var json = event.json
        json["attempt"] = .int(event.attempt)
        return JSONValue.object(json).jsonText
    }
}
