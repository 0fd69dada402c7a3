import ArgumentParser
import DocketStore
import Foundation

/// Exit codes, from sysexits(3) where one fits.
enum Exit {
    static let failure: Int32 = 1
    static let usage: Int32 = 64
    static let invalid: Int32 = 65
    static let notFound: Int32 = 66
    static let unavailable: Int32 = 69
    static let conflict: Int32 = 75
    static let denied: Int32 = 77
}

/// Prints `docket: <message>` on stderr and exits with `code`.
func fail(_ message: String, code: Int32 = Exit.failure) -> Never {
    FileHandle.standardError.write(Data("docket: \(message)\n".utf8))
    exit(code)
}

/// Runs a command body, turning store errors into one-line messages and exit codes.
func reportingErrors<T>(_ body: () async throws -> T) async -> T {
    do {
        return try await body()
    } catch let error as StoreError {
        switch error {
        case .notFound: fail(error.description, code: Exit.notFound)
        case .conflict: fail(error.description + ": reload and try again", code: Exit.conflict)
        case .denied: fail("refused: " + error.description, code: Exit.denied)
        case .noPermission: fail(error.description, code: Exit.denied)
        case .invalid: fail(error.description, code: Exit.invalid)
        case .unavailable: fail(error.description + " (is PostgreSQL running? check --database-url)", code: Exit.unavailable)
        }
    } catch let error as EmbeddedPostgresError {
        fail(error.description, code: Exit.unavailable)
    } catch {
        fail(String(describing: error))
    }
}
