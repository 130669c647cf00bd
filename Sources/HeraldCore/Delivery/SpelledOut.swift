extension CaseIterable where Self: RawRepresentable, Self.RawValue == String {
    /// Every case's name as a list people read, "slack, mattermost or webhook", for the error messages that
    /// name the allowed values.
    public static var spelledOut: String {
        let names = allCases.map(\.rawValue)
        guard let last = names.last else { return "" }
        return names.count == 1 ? last : names.dropLast().joined(separator: ", ") + " or " + last
    }
}
