extension Duration {
    /// The duration in seconds, as a `Double` (for throughput figures and progress lines).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
