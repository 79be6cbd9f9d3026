import Foundation
import SystemCall

#if canImport(Glibc)
import Glibc
#endif

/// Asks the daemon one question over its control socket and reads the answer.
public struct ControlClient: Sendable {
    /// The socket's path.
    public var path: String
    /// How long to wait for the whole answer.
    public var timeoutSeconds: Int

    /// A client for the socket at `path`.
    public init(path: String = ControlSocketAddress.defaultPath, timeoutSeconds: Int = 10) {
        self.path = path
        self.timeoutSeconds = timeoutSeconds
    }

    /// Largest answer accepted (a million connections fit).
    static let maximumResponseBytes = 1 << 30

    /// Sends `request` and returns the daemon's answer; an answer carrying an error is thrown
    /// as ``ControlError/daemon(_:)``.
    public func send(_ request: ControlRequest) throws(ControlError) -> ControlResponse {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw systemError("socket") }
        defer { close(fd) }
        let connected = ControlSocketAddress.withAddress(path) { address, length in connect(fd, address, length) }
        guard let connected else {
            throw .system(call: "connect", path: path, errno: ENAMETOOLONG,
                          message: "the path is empty or longer than \(ControlSocketAddress.maximumPathLength) bytes")
        }
        if connected != 0 {
            switch errno {
            case ENOENT, ECONNREFUSED: throw .notRunning(path: path)
            case EACCES, EPERM: throw .permissionDenied(path: path)
            default: throw systemError("connect")
            }
        }
        let encoder = JSONEncoder()
        guard var line = try? encoder.encode(request) else { throw .badResponse("cannot encode the request") }
        line.append(0x0A)
        let deadline = Date().addingTimeInterval(Double(timeoutSeconds))
        let bytes = [UInt8](line)
        var offset = 0
        while offset < bytes.count {
            try wait(fd, for: Int16(POLLOUT), until: deadline)
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw systemError("send")
            }
            offset += sent
        }
        shutdown(fd, Int32(SHUT_WR))
        var answer = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            try wait(fd, for: Int16(POLLIN), until: deadline)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw systemError("recv")
            }
            if count == 0 { break }
            answer.append(contentsOf: buffer[0..<count])
            guard answer.count <= Self.maximumResponseBytes else { throw .badResponse("answer larger than 1 GiB") }
        }
        guard !answer.isEmpty else { throw .badResponse("the daemon closed the connection without answering") }
        let response: ControlResponse
        do {
            response = try JSONDecoder().decode(ControlResponse.self, from: answer)
        } catch {
            throw .badResponse("\(error)")
        }
        if let message = response.error { throw .daemon(message) }
        return response
    }

    private func wait(_ fd: Int32, for events: Int16, until deadline: Date) throws(ControlError) {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw .timedOut(path: path, seconds: timeoutSeconds) }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(min(remaining * 1000, 1000)) + 1)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw systemError("poll") }
        }
    }

    private func systemError(_ call: String) -> ControlError {
        let code = errno
        return .system(call: call, path: path, errno: code, message: SystemCall.describe(code))
    }
}
