import ArgumentParser
import Histogram

/// The load tool's scenarios.
public enum Scenario: String, CaseIterable, Sendable, ExpressibleByArgument {
    case fire, get, mixed, ping
}
