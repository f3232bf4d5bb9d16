#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import AuthCore
import Foundation
import Logging
import Synchronization

/// Output for the CLI: results on stdout, problems on stderr (never secrets).
enum Console {
    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Logs go to stderr, so command output on stdout stays machine-readable; every line logged for
/// a request carries its `request_id` and `tenant` (`LogMetadata`).
enum LoggingBootstrap {
    private static let done = Mutex(false)

    static func once() {
        let first = done.withLock { d -> Bool in
            defer { d = true }
            return !d
        }
        if first {
            LoggingSystem.bootstrap(
                { label, provider in StreamLogHandler.standardError(label: label, metadataProvider: provider) },
                metadataProvider: LogMetadata.provider)
        }
    }
}
