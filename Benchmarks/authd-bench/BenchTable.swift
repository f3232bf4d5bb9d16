#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// One line of the printed table.
struct BenchRow: Sendable {
    var name: String
    var value: String
    var note: String = ""
}

/// Prints rows as an aligned table.
enum BenchTable {
    static func print(_ title: String, _ rows: [BenchRow]) {
        let w = max(44, rows.map(\.name.count).max() ?? 0)
        let v = max(14, rows.map(\.value.count).max() ?? 0)
        Swift.print("\n\(title)")
        Swift.print(pad("benchmark", w) + "  " + lpad("value", v) + "  note")
        for r in rows { Swift.print(pad(r.name, w) + "  " + lpad(r.value, v) + "  " + r.note) }
        fflush(nil)  // stdout is a pipe under make: show each table as it is done
    }

    static func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    static func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
    static func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
}

/// Seconds since `start`.
func elapsed(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// The p-th percentile of sorted values.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

/// A lock-protected value shared by benchmark tasks.
final class Shared<Value: Sendable>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&value) } }
    var current: Value { lock.withLock { value } }
}
