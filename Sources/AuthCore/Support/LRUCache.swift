/// A bounded map that, when full, drops the entry used least recently: O(1) lookups, inserts
/// and evictions (a dictionary of slots, and a doubly linked list threaded through the slots by
/// index, so nothing is allocated per use; removed slots are reused). Not thread-safe: keep it
/// behind a lock.
struct LRUCache<Key: Hashable, Value> {
    private struct Slot {
        var key: Key
        /// Nil in a free slot (its value released).
        var value: Value?
        var newer: Int?
        var older: Int?
    }

    let capacity: Int
    private var index: [Key: Int] = [:]
    private var slots: [Slot] = []
    private var free: [Int] = []
    private var newest: Int?
    private var oldest: Int?

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { index.count }

    /// The value, now the most recently used; nil when absent.
    mutating func get(_ key: Key) -> Value? {
        guard let i = index[key] else { return nil }
        moveToNewest(i)
        return slots[i].value
    }

    /// Whether `key` is held, without counting as a use.
    func contains(_ key: Key) -> Bool { index[key] != nil }

    /// Inserts or replaces, as the most recently used; drops the least recently used when full.
    mutating func set(_ key: Key, _ value: Value) {
        if let i = index[key] {
            slots[i].value = value
            moveToNewest(i)
            return
        }
        let i: Int
        if let reused = free.popLast() {
            i = reused
            slots[i] = Slot(key: key, value: value)
        } else if slots.count < capacity {
            i = slots.count
            slots.append(Slot(key: key, value: value))
        } else if let victim = oldest {
            // Full: the oldest slot is reused for the new key.
            unlink(victim)
            index[slots[victim].key] = nil
            slots[victim] = Slot(key: key, value: value)
            i = victim
        } else {
            return
        }
        index[key] = i
        linkAsNewest(i)
    }

    /// Removes `key` if held.
    mutating func remove(_ key: Key) {
        guard let i = index.removeValue(forKey: key) else { return }
        unlink(i)
        slots[i].value = nil
        free.append(i)
    }

    private mutating func moveToNewest(_ i: Int) {
        guard newest != i else { return }
        unlink(i)
        linkAsNewest(i)
    }

    private mutating func linkAsNewest(_ i: Int) {
        slots[i].older = newest
        slots[i].newer = nil
        if let n = newest { slots[n].newer = i }
        newest = i
        if oldest == nil { oldest = i }
    }

    private mutating func unlink(_ i: Int) {
        let (newer, older) = (slots[i].newer, slots[i].older)
        if let newer { slots[newer].older = older } else { newest = older }
        if let older { slots[older].newer = newer } else { oldest = newer }
        slots[i].newer = nil
        slots[i].older = nil
    }
}
