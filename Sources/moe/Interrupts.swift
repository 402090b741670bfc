import Continual
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C (SIGINT) and `kill`/`docker stop` (SIGTERM) while a stream learns: the batch
/// being learned ends, the stream is saved where `--save` (or `--resume`) says, as a
/// pause that `moe stream --resume` continues from the next row, and the command exits
/// with the signal's status (128 + its number). Before, either signal ended the process
/// at once and lost everything learned since the last save. A second signal ends it at
/// once, as the first used to.
final class Interrupts {
    let request = StopRequest()
    private let sources: [any DispatchSourceSignal]

    /// Starts catching SIGINT and SIGTERM; `announce` is told of the first one, and
    /// whether the stream is saved (`saves`: a checkpoint path was given).
    init(saves: Bool, announce: @escaping @Sendable (String) -> Void) {
        let request = self.request
        sources = [SIGINT, SIGTERM].map { number in
            // The signal is taken from its default action and delivered to a queue.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if request.requested != nil {
                    // The second: end now, with the status the signal would have given.
                    // The handler runs on a dispatch thread, which blocks signals: the
                    // signal raised there stayed pending, and a stream waiting on a named
                    // pipe with no writer outlived any number of them. Unblocked first, it
                    // is delivered before `raise` returns.
                    signal(number, SIG_DFL)
                    var set = sigset_t()
                    sigemptyset(&set)
                    sigaddset(&set, number)
                    pthread_sigmask(SIG_UNBLOCK, &set, nil)
                    raise(number)
                    _exit(128 + number)
                }
                request.request(number)
                let signalName = number == SIGINT ? "SIGINT" : number == SIGTERM ? "SIGTERM" : "signal \(number)"
                announce("\(Self.name(number)): finishing the batch being learned, then "
                    + (saves ? "saving" : "stopping (nothing is saved without --save)") + "; a second \(signalName) stops at once")
            }
            source.resume()
            return source
        }
    }

    /// The exit status a stopped stream ends with: the shell's for the signal.
    var exitStatus: Int32? { request.requested.map { 128 + $0 } }

    static func name(_ number: Int32) -> String {
        number == SIGINT ? "interrupted (SIGINT)" : number == SIGTERM ? "terminated (SIGTERM)" : "signal \(number)"
    }
}
