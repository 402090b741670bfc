import Foundation
import Testing
import Continual
import MoE
import TestSupport

@Suite("IDX files")
struct DataIDXTests {
    @Test("round trip through plain and gzip IDX files, scaled and raw")
    func roundTrip() throws {
        try withTemporaryDirectory { dir in
            let (images, labels) = tinyImages(count: 5)
            for suffix in ["", ".gz"] {
                let imagePath = dir.path("images-idx3-ubyte\(suffix)"), labelPath = dir.path("labels-idx1-ubyte\(suffix)")
                try IDX.write(images, to: imagePath)
                try IDX.write(labels, to: labelPath)
                #expect(try IDX.read(path: imagePath, rank: 3) == images)
                #expect(try IDX.read(path: labelPath, rank: 1) == labels)
                let dataset = try IDX.loadDataset(images: imagePath, labels: labelPath)
                #expect(dataset.count == 5 && dataset.inputWidth == 6 && dataset.classCount == 3)
                #expect(dataset.labels == [0, 1, 2, 0, 1])
                #expect(dataset.features[4, 5] == Float(images.bytes[29]) / 255)
                let raw = try IDX.loadDataset(images: imagePath, labels: labelPath, scaling: .raw)
                #expect(raw.features.scalars == images.bytes.map(Float.init))
            }
            // The gzip file really is compressed (magic 1f 8b).
            #expect(try readFileBytes(dir.path("images-idx3-ubyte.gz")).prefix(2) == [0x1F, 0x8B])
        }
    }

    @Test("a missing file names the path")
    func missingFile() throws {
        let error = dataError { _ = try IDX.read(path: "/nonexistent/images.gz", rank: 3) }
        #expect(error == .fileNotFound(path: "/nonexistent/images.gz"))
        #expect(error?.description.contains("/nonexistent/images.gz") == true)
    }

    @Test("a truncated IDX file says how many bytes were promised and found")
    func truncated() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("cut-idx3-ubyte")
            try IDX.write(tinyImages(count: 4).images, to: path)
            let bytes = try readFileBytes(path)
            try writeFileBytes(Array(bytes.dropLast(5)), to: path)
            let error = dataError { _ = try IDX.read(path: path, rank: 3) }
            #expect(error == .truncatedIDX(path: path, expectedBytes: 16 + 24, actualBytes: 16 + 19))
            #expect(error?.description.contains(path) == true)
            #expect(error?.description.contains("40") == true)

            try writeFileBytes(Array(bytes.prefix(9)), to: path)  // inside the header
            #expect(dataError { _ = try IDX.read(path: path, rank: 3) }
                == .truncatedIDX(path: path, expectedBytes: 16, actualBytes: 9))
        }
    }

    @Test("a wrong magic number and a wrong rank are told apart")
    func wrongMagicAndRank() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("data")
            try writeFileBytes([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0], to: path)
            let magic = dataError { _ = try IDX.read(path: path, rank: 3) }
            #expect(magic == .wrongIDXMagic(path: path, expected: "0x00000803 (unsigned-byte images)", actual: 0x1234_5678))
            #expect(magic?.description.contains("0x12345678") == true)
            #expect(magic?.description.contains(path) == true)
            // A zip archive of the IDX files is named as one (its magic number was shown).
            try writeFileBytes([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0], to: path)
            #expect(dataError { _ = try IDX.read(path: path, rank: 3) }?.description.contains("it is a zip archive, and only gzip is read") == true)

            // A labels file where images are expected.
            try IDX.write(IDXArray(dimensions: [3], bytes: [0, 1, 2]), to: path)
            let rank = dataError { _ = try IDX.read(path: path, rank: 3) }
            #expect(rank == .wrongDimensions(path: path, expected: "3 dimensions (count x rows x columns)", actual: [3]))
            #expect(rank?.description.contains("wrong dimensions 3") == true)

            // Zero-sized images.
            try IDX.write(IDXArray(dimensions: [2, 0, 4], bytes: []), to: path)
            guard case .wrongDimensions(_, _, let actual)? = dataError({ _ = try IDX.read(path: path, rank: 3) }) else {
                Issue.record("zero-sized images were accepted")
                return
            }
            #expect(actual == [2, 0, 4])
        }
    }

    @Test("data beyond what the header describes is refused")
    func trailingData() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("labels")
            try writeFileBytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3], to: path)
            guard case .wrongDimensions(let at, _, let actual)? = dataError({ _ = try IDX.read(path: path, rank: 1) })
            else {
                Issue.record("trailing data was accepted")
                return
            }
            #expect(at == path && actual == [2])
        }
    }

    @Test("images and labels of different counts")
    func countMismatch() throws {
        try withTemporaryDirectory { dir in
            try IDX.write(tinyImages(count: 4).images, to: dir.path("i"))
            try IDX.write(tinyImages(count: 3).labels, to: dir.path("l"))
            let error = dataError { _ = try IDX.loadDataset(images: dir.path("i"), labels: dir.path("l")) }
            #expect(error == .wrongDimensions(path: dir.path("l"), expected: "4 labels, one per image of \(dir.path("i"))",
                                              actual: [3]))
        }
    }

    @Test("a .gz file that is not gzip, a corrupt gzip and a cut gzip")
    func badGzip() throws {
        try withTemporaryDirectory { dir in
            let fake = dir.path("fake.gz")
            try IDX.write(tinyImages(count: 2).images, to: dir.path("plain"))
            try writeFileBytes(try readFileBytes(dir.path("plain")), to: fake)
            let notGzip = dataError { _ = try IDX.read(path: fake, rank: 3) }
            #expect(notGzip == .notGzip(path: fake))
            #expect(notGzip?.description.contains(fake) == true)

            // Enough data that the deflate stream has real content to damage.
            let pattern: [UInt8] = (0..<(400 * 784)).map { (i: Int) -> UInt8 in UInt8((i * 7 + i / 784) % 251) }
            let big = IDXArray(dimensions: [400, 28, 28], bytes: pattern)
            let good = dir.path("good.gz")
            try IDX.write(big, to: good)
            var bytes = try readFileBytes(good)
            #expect(try IDX.read(path: good, rank: 3) == big)

            let cut = dir.path("cut.gz")
            try writeFileBytes(Array(bytes.prefix(bytes.count / 2)), to: cut)
            guard case .corruptGzip(let path, let reason)? = dataError({ _ = try IDX.read(path: cut, rank: 3) }) else {
                Issue.record("a cut gzip file was not reported as corrupt")
                return
            }
            #expect(path == cut && reason.contains("ends early"))

            for i in stride(from: 40, to: bytes.count - 40, by: 97) { bytes[i] ^= 0x5A }
            let corrupt = dir.path("corrupt.gz")
            try writeFileBytes(bytes, to: corrupt)
            let error = dataError { _ = try IDX.read(path: corrupt, rank: 3) }
            guard case .corruptGzip(let at, _)? = error else {
                Issue.record("a corrupt gzip file gave \(String(describing: error))")
                return
            }
            #expect(at == corrupt)
            #expect(error!.description.contains("gzip data is corrupt"))
        }
    }

    @Test("a label outside the declared classes names the file and item")
    func labelOutOfRange() throws {
        try withTemporaryDirectory { dir in
            let (images, _) = tinyImages(count: 4)
            try IDX.write(images, to: dir.path("i"))
            try IDX.write(IDXArray(dimensions: [4], bytes: [0, 1, 12, 2]), to: dir.path("l"))
            let error = dataError { _ = try IDX.loadDataset(images: dir.path("i"), labels: dir.path("l"), classCount: 10) }
            #expect(error == .labelOutOfRange(at: DataLocation(source: dir.path("l"), item: 3), label: "12",
                                              declared: "0..<10"))
            #expect(error?.description == "\(dir.path("l")), item 3: the label '12' is not one of the declared classes (0..<10).")
        }
    }

    @Test("an empty IDX pair is an empty stream")
    func empty() throws {
        try withTemporaryDirectory { dir in
            try IDX.write(IDXArray(dimensions: [0, 2, 2], bytes: []), to: dir.path("i"))
            try IDX.write(IDXArray(dimensions: [0], bytes: []), to: dir.path("l"))
            #expect(dataError { _ = try IDX.loadDataset(images: dir.path("i"), labels: dir.path("l")) }
                == .emptyStream(source: dir.path("i")))
        }
    }

    @Test("Fashion-MNIST missing from a directory says which package to install")
    func fashionMissing() throws {
        try withTemporaryDirectory { dir in
            let error = dataError { _ = try FashionMNIST.load(split: .test, directory: dir.path("none")) }
            #expect(error?.description.contains("apt-get install dataset-fashion-mnist") == true)
            #expect(error?.description.contains(dir.path("none") + "/t10k-images-idx3-ubyte.gz") == true)
            // Both splits at once (the test split on another thread): the training split's error first.
            let both = dataError { _ = try FashionMNIST.loadSplits(directory: dir.path("none")) }
            #expect(both?.description.contains(dir.path("none") + "/train-images-idx3-ubyte.gz") == true)
        }
    }

    @Test("the real Fashion-MNIST loads: 60000 and 10000 rows of 784, labels 0..<10",
          .enabled(if: FashionMNIST.isAvailable(), "dataset-fashion-mnist is not installed"))
    func fashionMNIST() throws {
        let train = try FashionMNIST.load(split: .train)
        #expect(train.features.shape == [60000, 784])
        #expect(train.classCount == 10 && train.classNames?.count == 10)
        #expect(train.classCounts == Array(repeating: 6000, count: 10))
        // A strided sample (a full scan is slow in debug builds): values in [0, 1], both ends reached.
        let sample = stride(from: 0, to: train.features.count, by: 89).map { train.features.scalars[$0] }
        #expect(sample.allSatisfy { $0 >= 0 && $0 <= 1 } && sample.contains(0) && sample.contains(1))
        #expect(train.labels[0] == 9)
        let test = try FashionMNIST.load(split: .test)
        #expect(test.features.shape == [10000, 784])
        #expect(test.labels.allSatisfy { (0..<10).contains($0) })
        #expect(test.classCounts == Array(repeating: 1000, count: 10))
        // The first test image is an ankle boot (label 9), as in the published files.
        #expect(test.labels[0] == 9)
        // Loaded side by side, the same data.
        let both = try FashionMNIST.loadSplits()
        #expect(both.train.features == train.features && both.train.labels == train.labels)
        #expect(both.test.features == test.features && both.test.labels == test.labels)
    }
}
