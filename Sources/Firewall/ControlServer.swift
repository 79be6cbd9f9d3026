import Control
import Foundation
import SystemCall
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's control socket: a Unix stream socket (mode 0600, or 0660 with a group) that
/// answers one JSON request per connection. It runs on a thread of its own with non-blocking
/// sockets and deadlines, so a client that sends garbage, sends nothing or never reads cannot
/// stall it for long, and never touches the packet path.
final class ControlServer: @unchecked Sendable {
    /// Answers one request (on the server's thread).
    typealias Handler = @Sendable (ControlRequest) -> ControlResponse

    let path: String
    private let listener: Int32
    private let wake: (read: Int32, write: Int32)
    private let handler: Handler
    private let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?

    /// Clients served at once; a new one beyond that replaces the oldest that has not yet sent
    /// its request.
    static let maximumClients = 32
    /// A request line longer than this is refused.
    static let maximumRequestBytes = 64 * 1024
    /// A client has this long to send its request and read the answer.
    static let clientDeadlineSeconds = 10.0

    /// Creates the socket at `path` (and its directory if missing). A stale socket file left by a
    /// dead daemon is replaced; a live one is an error. A directory created here is given to
    /// `directoryOwner` (the account of `--user`), so the daemon can still remove the socket at
    /// stop once it has dropped root.
    init(path: String, group: gid_t?, directoryOwner: (uid: uid_t, gid: gid_t)? = nil,
         handler: @escaping Handler) throws(DaemonError) {
        self.path = path
        self.handler = handler
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            guard mkdir(directory, 0o755) == 0 || errno == EEXIST else {
                throw .control(path: path, message: "cannot create \(directory): \(SystemCall.lastError)")
            }
            if let directoryOwner, chown(directory, directoryOwner.uid, directoryOwner.gid) != 0 {
                throw .control(path: path, message: "cannot give \(directory) to uid \(directoryOwner.uid): "
                    + SystemCall.lastError)
            }
        }
        if FileManager.default.fileExists(atPath: path) {
            if (try? ControlClient(path: path, timeoutSeconds: 2).send(ControlRequest(command: .stats))) != nil {
                throw .control(path: path, message: "another synwall is serving it (stop it, or use --control PATH)")
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .control(path: path, message: "socket: \(SystemCall.lastError)") }
        // Created with no access for others from the first instant; the mode is set right after.
        let previousMask = umask(0o177)
        let bound = ControlSocketAddress.withAddress(path) { address, length in bind(fd, address, length) }
        let bindErrno = errno
        umask(previousMask)
        guard let bound else {
            close(fd)
            throw .control(path: path, message: "the path is longer than \(ControlSocketAddress.maximumPathLength) bytes")
        }
        guard bound == 0 else {
            close(fd)
            throw .control(path: path, message: "bind: \(SystemCall.describe(bindErrno))")
        }
        if let group {
            guard chown(path, uid_t.max, group) == 0, chmod(path, 0o660) == 0 else {
                let message = SystemCall.lastError
                close(fd)
                unlink(path)
                throw .control(path: path, message: "cannot give the socket to group \(group): \(message)")
            }
        }
        guard listen(fd, 16) == 0 else {
            let message = SystemCall.lastError
            close(fd)
            unlink(path)
            throw .control(path: path, message: "listen: \(message)")
        }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0, Self.setNonBlocking(pipeEnds[0]), Self.setNonBlocking(pipeEnds[1]) else {
            close(fd)
            unlink(path)
            throw .control(path: path, message: "pipe: \(SystemCall.lastError)")
        }
        listener = fd
        wake = (pipeEnds[0], pipeEnds[1])
    }

    /// Starts serving on a thread of its own.
    func start() {
        let thread = Thread { [self] in
            serve()
            finished.signal()
        }
        thread.name = "synwall-control"
        self.thread = thread
        thread.start()
    }

    /// Stops serving, closes every client and removes the socket file.
    func stop() {
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        if thread != nil { finished.wait() }
        close(listener)
        close(wake.read)
        close(wake.write)
        unlink(path)
    }

    /// Non-blocking and close-on-exec.
    private static func setNonBlocking(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0
    }

    /// One connected client.
    private struct Client {
        let fd: Int32
        let deadline: Date
        var input: [UInt8] = []
        var output: [UInt8] = []
        var sent = 0
        var answered = false
    }

    private func serve() {
        var clients: [Client] = []
        while true {
            var fds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            for client in clients {
                fds.append(pollfd(fd: client.fd, events: Int16(client.answered ? POLLOUT : POLLIN), revents: 0))
            }
            let ready = poll(&fds, nfds_t(fds.count), 500)
            if ready < 0 && errno != EINTR { usleep(10_000) }
            if fds[0].revents != 0 { break }
            let now = Date()
            var kept: [Client] = []
            for (index, var client) in clients.enumerated() {
                let events = fds[index + 2].revents
                var open = now < client.deadline
                if open, events != 0 {
                    open = client.answered ? flush(&client) : read(&client)
                }
                if open { kept.append(client) } else { close(client.fd) }
            }
            clients = kept
            if fds[1].revents & Int16(POLLIN) != 0 { accept(into: &clients) }
        }
        for client in clients { close(client.fd) }
    }

    private func accept(into clients: inout [Client]) {
        for _ in 0..<Self.maximumClients {
            let fd = Glibc.accept(listener, nil, nil)
            guard fd >= 0 else { return }
            guard Self.setNonBlocking(fd) else {
                close(fd)
                continue
            }
            if clients.count >= Self.maximumClients {
                // Full: make room by closing the client that has waited longest without
                // sending a whole request (idle or slow ones are what fills the table).
                guard let oldest = clients.indices.first(where: { !clients[$0].answered }) else {
                    close(fd)
                    continue
                }
                close(clients[oldest].fd)
                clients.remove(at: oldest)
            }
            clients.append(Client(fd: fd, deadline: Date().addingTimeInterval(Self.clientDeadlineSeconds)))
        }
    }

    /// Reads what the client sent; answers once a whole line (or the end) is there. False to
    /// close the client.
    private func read(_ client: inout Client) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
        if count < 0 { return errno == EAGAIN || errno == EINTR }
        let ended = count == 0
        client.input.append(contentsOf: buffer[0..<count])
        let line: ArraySlice<UInt8>
        if let newline = client.input.firstIndex(of: 0x0A) {
            line = client.input[..<newline]
        } else if client.input.count > Self.maximumRequestBytes {
            return respond(&client, ControlResponse(error: "request longer than \(Self.maximumRequestBytes) bytes"))
        } else if ended {
            guard !client.input.isEmpty else { return false }
            line = client.input[...]
        } else {
            return true
        }
        return respond(&client, answer(Array(line)))
    }

    /// Decodes a request line (JSON, or a bare command word) and asks the handler.
    private func answer(_ line: [UInt8]) -> ControlResponse {
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if let command = ControlRequest.Command(rawValue: text) {
            return handler(ControlRequest(command: command))
        }
        guard let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(line)) else {
            return ControlResponse(error: "not a request: expected one JSON object such as {\"command\":\"stats\"}")
        }
        return handler(request)
    }

    private func respond(_ client: inout Client, _ response: ControlResponse) -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = (try? encoder.encode(response)).map(Array.init)
            ?? Array(#"{"error":"the answer could not be encoded"}"#.utf8)
        bytes.append(0x0A)
        client.output = bytes
        client.answered = true
        shutdown(client.fd, Int32(SHUT_RD))
        return flush(&client)
    }

    /// Writes as much of the answer as the client takes now. False when done or broken.
    private func flush(_ client: inout Client) -> Bool {
        while client.sent < client.output.count {
            let count = client.output.withUnsafeBytes { raw in
                send(client.fd, raw.baseAddress.map { $0 + client.sent }, raw.count - client.sent, Int32(MSG_NOSIGNAL))
            }
            if count < 0 { return errno == EAGAIN || errno == EINTR }
            client.sent += count
        }
        return false
    }
}
