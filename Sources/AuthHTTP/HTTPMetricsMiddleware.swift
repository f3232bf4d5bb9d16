import Hummingbird
import Metrics

/// Counts answers by status class and times them (`authd_http_requests_total{status="2xx"}`,
/// `authd_http_request_duration_seconds`). Its metrics are made once, not per request as
/// Hummingbird's `MetricsMiddleware` does with per-route labels: on the guard's hot path a metric
/// lookup per request would cost more than the request. Placed outside the error envelope, it sees
/// the status every client saw.
public struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    static var statusClasses: [String] { ["1xx", "2xx", "3xx", "4xx", "5xx"] }
    private let answers: [Counter]
    private let duration: Timer

    public init() {
        answers = Self.statusClasses.map { Counter(label: "authd_http_requests_total", dimensions: [("status", $0)]) }
        duration = Timer(label: "authd_http_request_duration_seconds", preferredDisplayUnit: .seconds)
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(Int(response.status.code), since: start)
            return response
        } catch {
            record((error as? HTTPResponseError)?.status.code ?? 500, since: start)
            throw error
        }
    }

    private func record(_ status: Int, since start: ContinuousClock.Instant) {
        answers[min(max(status / 100, 1), 5) - 1].increment()
        duration.record(duration: ContinuousClock.now - start)
    }
}
