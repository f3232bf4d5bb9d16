import Hummingbird

/// `GET /metrics` (API.md): the Prometheus text exposition of everything recorded through
/// swift-metrics. `render` comes from whoever bootstrapped the metrics backend (`authd`), so this
/// module stays independent of the exporter.
public struct MetricsRoute: Sendable {
    public typealias Render = @Sendable () -> [UInt8]
    let render: Render

    public init(render: @escaping Render) {
        self.render = render
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: render())))
        }
    }
}
