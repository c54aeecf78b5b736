// HTTPDownload.swift — one HTTP(S) GET into memory, with a timeout and a check of its length.
//
// Teaches: a transfer can fail in three ways that all look different to the user: no answer
// (a timeout, a refused connection), a wrong answer (HTTP 404), or an answer cut short (the
// connection closed before the `Content-Length` the server announced). Each is one line here.
// Leaves out: resuming a partial transfer (MNIST's largest file is 10 MB: it starts again),
// proxies beyond what the system's URL loading honours, and retries.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Shared

enum HTTPDownload {
    /// The largest body kept: 256 MiB, far above MNIST's largest file (47 MB uncompressed).
    static let maximumBodyBytes = 256 << 20

    /// The body of `url`, read completely into memory.
    ///
    /// - Parameters:
    ///   - url: the file to download.
    ///   - timeout: seconds to wait for the connection and for each piece of the body.
    ///   - maximumBytes: the largest body kept (``maximumBodyBytes`` by default).
    /// - Throws: `NeuralLevelsError/failure(_:)` (exit status 1), one line naming `url`: the
    ///   transfer's error (refused, nothing received for `timeout` seconds, …), an HTTP status
    ///   other than 200, or a body shorter or longer than the `Content-Length` the server
    ///   announced ("truncated: expected N bytes, received M"), or one larger than
    ///   `maximumBytes` (announced or received: the transfer is cancelled then, not kept).
    static func fetch(_ url: URL, timeout: Double, maximumBytes: Int = maximumBodyBytes) throws -> Data {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let transfer = Transfer(limit: maximumBytes)
        let session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        session.dataTask(with: request).resume()
        transfer.finished.wait()                       // every delegate call that writes a field came before this

        let response = transfer.response as? HTTPURLResponse
        let expected = response?.expectedContentLength ?? -1
        let received = transfer.body.count
        func failure(_ reason: String) -> NeuralLevelsError {
            .failure("cannot download \(url.absoluteString): \(reason)")
        }
        if transfer.tooLarge {
            throw failure("the file is larger than \(maximumBytes) bytes" + (transfer.announced > Int64(maximumBytes)
                ? " (Content-Length \(transfer.announced))" : "") + ", more than any MNIST file")
        }
        if let error = transfer.error {
            if (error as? URLError)?.code == .timedOut {
                throw failure("nothing received for \(String(format: "%g", timeout)) s (--timeout)"
                    + (response == nil ? "" : ", after \(received)" + (expected >= 0 ? " of \(expected)" : "") + " bytes"))
            }
            if expected > Int64(received) {
                throw failure("truncated: expected \(expected) bytes, received \(received)")
            }
            throw failure(error.localizedDescription)
        }
        guard let response else { throw failure("no HTTP response") }
        guard response.statusCode == 200 else {
            throw failure("HTTP status \(response.statusCode) "
                + HTTPURLResponse.localizedString(forStatusCode: response.statusCode))
        }
        guard expected < 0 || Int64(received) == expected else {
            throw failure("truncated: expected \(expected) bytes, received \(received)")
        }
        return transfer.body
    }

    /// Collects one task's response and body; `finished` is signalled when the task completes.
    /// The session calls the delegate on its own serial queue; the caller reads the fields only
    /// after `finished.wait()`, so the semaphore orders every write before every read.
    private final class Transfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let finished = DispatchSemaphore(value: 0)
        let limit: Int
        var response: URLResponse?
        var body = Data()
        var error: (any Error)?
        /// The body is (or was announced to be) larger than `limit`: the task was cancelled and
        /// `finished` signalled at once (after that the delegate writes nothing).
        var tooLarge = false
        /// The `Content-Length` the server announced (-1 if none).
        var announced: Int64 = -1

        init(limit: Int) { self.limit = limit }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
            completionHandler(.allow)
            guard !tooLarge else { return }
            announced = response.expectedContentLength
            if announced > Int64(limit) { stop(dataTask) }
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            guard !tooLarge else { return }
            guard body.count + data.count <= limit else { return stop(dataTask) }
            body.append(data)
        }

        /// Gives up on a body that is too large: cancels the task and wakes the caller now (the
        /// task's completion may come late, or not at all, while the server keeps sending).
        private func stop(_ task: URLSessionTask) {
            tooLarge = true
            task.cancel()
            finished.signal()
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            guard !tooLarge else { return }                 // the caller has been woken already
            response = task.response
            self.error = error
            finished.signal()
        }
    }
}
