import ArgumentParser
import DocketBenchKit

// The async entry point, spelled out: from top-level code the synchronous `main()` would be
// chosen, and it refuses an asynchronous root command.
do {
    var command = try await DocketBench.asyncParseAsRoot()
    if let bench = command as? any BenchCommand {
        try await bench.execute()
    } else {
        try command.run()
    }
} catch {
    DocketBench.exit(withError: error)
}
