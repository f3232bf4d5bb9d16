/// A floor under how long a public code flow takes to answer: the work for an existing account
/// (a code made, sealed, stored, an event written and announced) costs about a millisecond more
/// than placeholders for a missing one — measurable over many requests — so both answers wait
/// until the same moment after the request started. Only answers that must not tell accounts
/// apart wait (not input errors or rate limits, which say nothing about an account).
struct ResponseFloor: Sendable {
    /// Far above the work on a healthy database (≈ 2–3 ms in `make bench`), short for a person.
    static let codeFlows: Duration = .milliseconds(40)

    let deadline: ContinuousClock.Instant

    init(_ floor: Duration = codeFlows) {
        deadline = .now + floor
    }

    /// Waits until the floor is reached (at once if it has been). A cancelled task does not wait.
    func wait() async {
        try? await Task.sleep(until: deadline, clock: .continuous)
    }
}
