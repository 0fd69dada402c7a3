import DocketBenchKit

print(Scenario.allCases.map(\.rawValue).joined(separator: " "))
