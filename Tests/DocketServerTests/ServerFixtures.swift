import DocketClient
import DocketTestSupport
import DocketWire
import Foundation

extension RESPValue {
    /// The reply as a dictionary of strings, for compact assertions.
    var fields: [String: String] {
        var out: [String: String] = [:]
        for (k, v) in mapValue ?? [:] { out[k] = v.stringValue ?? v.intValue.map(String.init) ?? v.boolValue.map { $0 ? "true" : "false" } }
        return out
    }
}
