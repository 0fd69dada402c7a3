import DocketCore
import Foundation
import Logging

/// Server logs go to stderr, one record per line: logfmt (the default), JSON, or swift-log's
/// plain text. Every record has `ts`, `level`, `msg` and its metadata; commands log a
/// `docket.request` id (`<connection>-<n>`), so one request's lines can be found.
enum Logs {
    enum Format: String, CaseIterable { case logfmt, json, text }

    static func bootstrap(default level: Logger.Level = .info, format: Format = .text) {
        let chosen = ProcessInfo.processInfo.environment["DOCKET_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? level
        bootstrap(level: chosen, format: format)
    }

    static func bootstrap(level: Logger.Level, format: Format) {
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .logfmt, .json:
                return StructuredLogHandler(label: label, level: level, json: format == .json)
            }
        }
    }
}

/// A line-per-record handler writing logfmt or JSON to stderr.
struct StructuredLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    let json: Bool
    var metadata: Logger.Metadata = [:]
    private static let lock = NSLock()

    init(label: String, level: Logger.Level, json: Bool) {
        (self.label, self.logLevel, self.json) = (label, level, json)
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [(String, String)] = [("ts", Self.timestamp()), ("level", event.level.rawValue), ("logger", label), ("msg", event.message.description)]
        var merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if let error = event.error, merged["error"] == nil { merged["error"] = "\(error)" }
        for key in merged.keys.sorted() { fields.append((key, "\(merged[key]!)")) }
        let text = json ? Self.json(fields) : Self.logfmt(fields)
        Self.lock.withLock { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    static func timestamp() -> String {
        let now = Date()
        var seconds = time_t(now.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int(now.timeIntervalSince1970 * 1000) % 1000
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, millis)
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let plain = !value.isEmpty && !value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline || $0 == "\\" }
            return "\(key)=" + (plain ? value : JSONText.quoted(value))
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(JSONText.quoted($0.0)):\(JSONText.quoted($0.1))" }.joined(separator: ",") + "}"
    }
}
