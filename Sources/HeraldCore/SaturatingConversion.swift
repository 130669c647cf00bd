extension Int {
    /// `value` rounded toward zero and held within `Int`'s range; NaN is 0.
    ///
    /// For numbers that come from outside (timestamps, durations): `Int(value)` traps on anything beyond the
    /// range, and one bad value must not stop the process.
    public init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 9.2e18 {
            self = .max
        } else if value <= -9.2e18 {
            self = .min
        } else {
            self = Int(value)
        }
    }
}
