/// Keys by the time they should be looked at again; a min-heap.
struct TimerHeap<Key> {
    private var items: [(at: ContinuousClock.Instant, key: Key)] = []

    var earliest: ContinuousClock.Instant? { items.first?.at }

    mutating func push(_ at: ContinuousClock.Instant, _ key: Key) {
        items.append((at, key))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].at < items[parent].at else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popDue(now: ContinuousClock.Instant) -> Key? {
        guard let first = items.first, first.at <= now else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count && items[left].at < items[smallest].at { smallest = left }
                if right < items.count && items[right].at < items[smallest].at { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.key
    }
}
