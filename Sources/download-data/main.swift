// download-data — fetch the original MNIST, check every file's SHA-256, write it atomically.
//
//     swift run -c release download-data                         # into $NEURAL_LEVELS_DATA or data/mnist
//     swift run -c release compare-levels --data data/mnist
//     swift run -c release download-data --data ~/mnist --base-url https://storage.googleapis.com/cvdf-datasets/mnist/
//
// Teaches: what `torchvision.datasets.MNIST(download=True)` and `keras.datasets.mnist.load_data()`
// do before training: fetch four `.gz` files, refuse any whose checksum is wrong, and keep them
// where the loader looks. Each file is held in memory until its SHA-256 matches, then written
// with Shared's `AtomicFile` (temp file, fsync, rename), so a failed or interrupted run never
// leaves a partial file; files already there with the right checksum are not fetched again.
// Leaves out: unpacking (Shared's IDX reader reads `.gz` directly) and parallel transfers.

import ArgumentParser
import Foundation
import Shared
import TrainingCLI

struct DownloadDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download-data",
        abstract: "Download the original MNIST files, verify their SHA-256 checksums, and write them into a data folder.",
        discussion: """
            Exit status: 0 when the four files are in place (downloaded, or already there); 64 bad \
            command line; 65 a file whose SHA-256 is wrong; 1 a network error (no answer, HTTP \
            error, transfer cut short) or a folder that cannot be written. A failed file leaves \
            nothing behind; files already verified are kept, so running again resumes.
            """)

    @Option(help: ArgumentHelp("Folder to write the four files into (created if missing). "
        + "Default: $NEURAL_LEVELS_DATA, else data/mnist.", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("Where the files are: the URL of the folder that holds them.", valueName: "url"))
    var baseURL: String = MNISTMirror.defaultBaseURL

    @Option(help: ArgumentHelp("A sha256sum-style file ('<sha256>  <name>' per line) with the digests to "
        + "expect instead of the original MNIST's (for another data set with the same file names).",
        valueName: "file"))
    var checksums: String?

    @Option(help: ArgumentHelp("Seconds to wait for a connection, and for each piece of a file "
        + "(at most \(Int(Self.maximumTimeout)), a day).", valueName: "seconds"))
    var timeout: Double = 60

    /// The longest `--timeout`: a day (86,400 s). Longer is no timeout at all, and the URL
    /// loading system turns the seconds into whole milliseconds, so 1e300 s crashed it.
    static let maximumTimeout = 86_400.0

    /// The data folder: `--data`, else `NEURAL_LEVELS_DATA` (set and non-empty), else `data/mnist`.
    var directory: String {
        if let data { return data }
        if let fromEnvironment = ProcessInfo.processInfo.environment["NEURAL_LEVELS_DATA"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "data/mnist"
    }

    /// The base URL as a folder URL (a trailing `/` added if missing).
    var baseFolderURL: URL? {
        let folder = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
        guard let url = URL(string: folder), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host != nil else { return nil }
        return url
    }

    func validate() throws {
        if data?.isEmpty == true { throw ValidationError("--data: the path is empty") }
        guard baseFolderURL != nil else {
            throw ValidationError("--base-url must be an http:// or https:// URL, got '\(baseURL)'")
        }
        guard timeout.isFinite, timeout > 0, timeout <= Self.maximumTimeout else {
            throw ValidationError("--timeout must be a number of seconds above 0 and at most "
                                  + "\(Int(Self.maximumTimeout)) (a day), got \(timeout)")
        }
        let (existing, isFolder) = FolderProbe.nearestExisting(directory)   // nothing can be made under a file
        if !isFolder {
            throw ValidationError(existing == directory ? "--data: \(directory) is a file, not a folder"
                                  : "--data: cannot create \(directory): its parent \(existing) is a file, not a folder")
        }
        _ = try expectedFiles()
    }

    /// The four files and their digests: MNIST's, or those of `--checksums`.
    func expectedFiles() throws -> [ExpectedFile] {
        try checksums.map(MNISTMirror.files(checksumsFile:)) ?? MNISTMirror.files
    }

    func run() throws {
        do {
            try download()
        } catch let error as NeuralLevelsError {
            throw reported(error)
        }
    }

    func download() throws {
        let files = try expectedFiles()
        let folder = directory
        let base = baseFolderURL!                                     // checked by validate()

        // First what is there, for all four: a folder, a device or a pipe where a file goes stops
        // the run before anything is downloaded.
        var toFetch: [(file: ExpectedFile, path: String)] = []   // missing, or there but not the file
        for file in files {
            let path = (folder as NSString).appendingPathComponent(file.name)
            // What is there already is read as any data file is: a regular file, capped in size.
            let existing: ExistingFile
            do {
                existing = try ExistingFile.at(path, maximumSize: HTTPDownload.maximumBodyBytes)
            } catch NeuralLevelsError.badData(_, let reason) {
                // A folder, a device or a pipe is never replaced (AtomicFile refuses to).
                throw NeuralLevelsError.failure("\(path): \(reason); download-data replaces only files")
            }
            switch existing {
            case .contents(let present):
                let digest = SHA256.hexDigest(present)
                if digest == file.sha256 {
                    print("\(file.name): already there, SHA-256 ok")
                    continue
                }
                print("\(file.name): already there but its SHA-256 is \(digest), expected \(file.sha256); downloading it again")
            case .tooLarge(let reason):
                print("\(file.name): already there but \(reason); downloading it again")
            case .absent:
                break                                               // not there: download it
            }
            toFetch.append((file, path))
        }

        for (file, path) in toFetch {
            let url = base.appendingPathComponent(file.name)
            let body = [UInt8](try HTTPDownload.fetch(url, timeout: timeout))
            let digest = SHA256.hexDigest(body)
            guard digest == file.sha256 else {
                throw NeuralLevelsError.badData(
                    file: url.absoluteString,
                    reason: "SHA-256 mismatch: expected \(file.sha256), received \(digest) (\(body.count) bytes); nothing written")
            }
            try createFolder(folder)
            try AtomicFile.write(body, to: path)
            print("\(file.name): downloaded \(body.count) bytes, SHA-256 ok")
        }

        for file in files {
            let unpacked = (folder as NSString).appendingPathComponent(String(file.name.dropLast(".gz".count)))
            if file.name.hasSuffix(".gz"), FileManager.default.fileExists(atPath: unpacked) {
                print("note: \(unpacked) is also there; the loaders read it instead of \(file.name)")
            }
        }
        let fetched = toFetch.count
        if fetched == 0 {
            print("Nothing to download: all \(files.count) files are already in \(folder) with the right checksums.")
        } else {
            print("Done: \(fetched) downloaded, \(files.count - fetched) already there. Train with --data \(folder) "
                + "(or NEURAL_LEVELS_DATA=\(folder)).")
        }
    }

    /// Creates the data folder and its missing parents, once a verified file is ready for it.
    func createFolder(_ folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw NeuralLevelsError.failure("cannot create the data folder \(folder): \(error.localizedDescription)")
        }
    }
}

DownloadDataCommand.mainWithOneLineErrors()      // a bad option: one line, exit 64 (docs/design.md)
