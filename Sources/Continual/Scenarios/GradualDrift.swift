/// Gradual drift between consecutive experiences: around each boundary, over `window`
/// stream positions centred on it, the probability of drawing a sample from the next
/// experience rises linearly from 0 to 1.
///
/// ```
/// P(next | position t) = (t - (b - W/2) + ½) / W     for b - W/2 <= t < b + W/2
/// ```
///
/// where `b` is the boundary and `W` the window. Before the boundary the current
/// experience's stream borrows samples from the next one; after it, the next
/// experience's stream still shows samples of the previous one (borrowed samples are
/// drawn uniformly, with replacement, from the other experience's training rows). Each
/// stream keeps its length; the samples it gives up are the last of its own order.
/// After the "gradual concept drift" of MOA (Bifet et al., "MOA: Massive Online
/// Analysis", JMLR 2010), with a linear instead of a sigmoid ramp.
public struct GradualDrift: Sendable, Equatable, Codable {
    /// Stream positions over which the blend happens (half before the boundary, half after).
    public var window: Int

    public init(window: Int) {
        self.window = window
    }
}
