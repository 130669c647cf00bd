@testable import HeraldServer
import Synchronization
import Testing

@Suite struct BodyBudgetTests {
    @Test func reservationsStayWithinTheCapacityAndADrainedSpellIsReported() {
        let spells = Mutex<[Int]>([])
        let budget = BodyBudget(capacity: 100, drained: { peak in spells.withLock { $0.append(peak) } })
        #expect(budget.reserve(60))
        #expect(!budget.reserve(41))
        #expect(budget.reserve(40))
        #expect(!budget.reserve(1))
        #expect(!budget.reserve(-5))
        budget.release(40)
        #expect(budget.inUse == 60)
        #expect(spells.withLock { $0 }.isEmpty)
        budget.release(60)
        #expect(budget.inUse == 0)
        #expect(spells.withLock { $0 } == [100])
        // Giving back more than was taken never goes below zero.
        budget.release(10)
        #expect(budget.inUse == 0)
        #expect(budget.reserve(100))
    }
}
