@testable import AuthCore
import Testing

/// The LRU map against a plain model (an array in use order), over random operations.
@Suite struct LRUCacheTests {
    @Test(arguments: [1, 2, 7])
    func behavesAsAnArrayInUseOrder(capacity: Int) {
        var cache = LRUCache<Int, Int>(capacity: capacity)
        var model: [(key: Int, value: Int)] = []  // oldest first
        var generator = SystemRandomNumberGenerator()
        for step in 0..<5000 {
            let key = Int.random(in: 0..<(capacity * 3), using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:
                cache.set(key, step)
                model.removeAll { $0.key == key }
                model.append((key, step))
                if model.count > capacity { model.removeFirst() }
            case 1:
                let expected = model.first { $0.key == key }?.value
                #expect(cache.get(key) == expected)
                if let at = model.firstIndex(where: { $0.key == key }) { model.append(model.remove(at: at)) }
            default:
                cache.remove(key)
                model.removeAll { $0.key == key }
            }
            #expect(cache.count == model.count)
            for (key, _) in model { #expect(cache.contains(key)) }
        }
    }

    @Test func theLeastRecentlyUsedGoesFirst() {
        var cache = LRUCache<String, Int>(capacity: 2)
        cache.set("a", 1)
        cache.set("b", 2)
        #expect(cache.get("a") == 1)  // b is now the oldest
        cache.set("c", 3)
        #expect(!cache.contains("b"))
        #expect(cache.get("a") == 1 && cache.get("c") == 3)
        cache.remove("a")
        cache.set("d", 4)  // into the freed slot: c stays
        #expect(cache.get("c") == 3 && cache.get("d") == 4 && cache.count == 2)
    }
}
