/// What a derived seed is used for; each purpose draws from its own sequence.
enum SeedPurpose: UInt64 {
    case classOrder = 1, pixelPermutation, sampleOrder, driftDraws, subsample
}

/// A seed for one purpose and index, derived from the scenario's seed (SplitMix64
/// finaliser of the mixed words), so that streams are independent of one another and of
/// the order in which they are created.
func derivedSeed(_ seed: UInt64, _ purpose: SeedPurpose, _ index: Int) -> UInt64 {
    var z = seed ^ (purpose.rawValue &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(index) &* 0xD6E8_FEB8_6659_FD93)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
