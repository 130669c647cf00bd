import GRDB
import HeraldCore

// The delivery names are stored as their raw values; GRDB's RawRepresentable support does the conversion.
extension DeliveryKind: DatabaseValueConvertible {}
extension DeliveryPurpose: DatabaseValueConvertible {}
extension DeliveryStatus: DatabaseValueConvertible {}
