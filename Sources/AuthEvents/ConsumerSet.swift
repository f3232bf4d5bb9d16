import ServiceLifecycle

/// Several consumers run as one service. A `ServiceGroup` shuts its services down one at a time;
/// as child tasks of one service, all consumers see the graceful shutdown at once: none claims a
/// new batch while another is still finishing, and they share the group's deadline evenly.
public struct ConsumerSet: Service {
    let consumers: [EventConsumer]

    public init(_ consumers: [EventConsumer]) {
        self.consumers = consumers
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for consumer in consumers { group.addTask { try await consumer.run() } }
            try await group.waitForAll()
        }
    }
}
