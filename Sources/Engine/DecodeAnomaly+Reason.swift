import Tracking
import Wire

extension DecodeAnomaly {
    /// Fragments synwall cannot judge are dropped as `fragment`, other malformations as `malformed`.
    @inlinable
    var dropReason: DropReason { isFragmentAnomaly ? .fragment : .malformed }
}
