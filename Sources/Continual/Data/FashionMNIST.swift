import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fashion-MNIST: 70,000 grayscale 28x28 images of clothing in 10 classes (60,000 for
/// training, 10,000 for testing), the framework's default data set. Debian ships it in
/// the `dataset-fashion-mnist` package.
///
/// Reference: H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a novel image dataset for
/// benchmarking machine learning algorithms", arXiv:1708.07747 (2017).
public enum FashionMNIST {
    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    /// The Debian package that provides the files.
    public static let package = "dataset-fashion-mnist"
    /// The ten class names, by label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    /// Pixels per image (28 x 28).
    public static let inputWidth = 784

    /// The two halves of the data set.
    public enum Split: String, Sendable, CaseIterable {
        case train, test

        var prefix: String { self == .train ? "train" : "t10k" }
    }

    /// The images and labels files of `split` in `directory` (the `.gz` names, or the
    /// uncompressed names when only those exist).
    public static func files(split: Split, directory: String = defaultDirectory) -> (images: String, labels: String) {
        func pick(_ stem: String) -> String {
            let plain = directory + "/" + stem
            return access(plain + ".gz", F_OK) != 0 && access(plain, F_OK) == 0 ? plain : plain + ".gz"
        }
        return (pick("\(split.prefix)-images-idx3-ubyte"), pick("\(split.prefix)-labels-idx1-ubyte"))
    }

    /// True when the files of both splits are present in `directory`.
    public static func isAvailable(directory: String = defaultDirectory) -> Bool {
        Split.allCases.allSatisfy { split in
            let f = files(split: split, directory: directory)
            return access(f.images, R_OK) == 0 && access(f.labels, R_OK) == 0
        }
    }

    /// Loads both splits, the test split on a second thread while the training split
    /// loads (decompressing and converting the test files took a seventh of the main
    /// job's loading). Errors are those of ``load(split:directory:scaling:)``, the
    /// training split's first.
    public static func loadSplits(
        directory: String = defaultDirectory, scaling: PixelScaling = .unit
    ) throws(DataError) -> (train: Dataset, test: Dataset) {
        let results = Mutex<[Split: Result<Dataset, DataError>]>([:])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let split: Split = index == 0 ? .train : .test
            let result = Result { () throws(DataError) -> Dataset in try load(split: split, directory: directory, scaling: scaling) }
            results.withLock { $0[split] = result }
        }
        let loaded = results.withLock { $0 }
        return (try loaded[.train]!.get(), try loaded[.test]!.get())
    }

    /// Loads one split: 60,000 (train) or 10,000 (test) rows of 784 features, scaled to
    /// [0, 1] by default, with labels in 0..<10.
    ///
    /// Throws `DataError.missingDataset` (which says to install `dataset-fashion-mnist`)
    /// when the files are not there, and the usual `DataError`s when they are damaged.
    public static func load(
        split: Split, directory: String = defaultDirectory, scaling: PixelScaling = .unit
    ) throws(DataError) -> Dataset {
        let f = files(split: split, directory: directory)
        for path in [f.images, f.labels] where access(path, F_OK) != 0 {
            throw .missingDataset(name: "Fashion-MNIST", path: path, package: package)
        }
        let dataset = try IDX.loadDataset(images: f.images, labels: f.labels, classCount: 10, classNames: classNames,
                                          scaling: scaling, name: "Fashion-MNIST \(split.rawValue)")
        guard dataset.inputWidth == inputWidth else {
            throw .wrongDimensions(path: f.images, expected: "28x28 images", actual: [dataset.count, dataset.inputWidth])
        }
        return dataset
    }
}
