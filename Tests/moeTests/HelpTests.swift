import Testing

@Suite("moe --help")
struct HelpTests {
    @Test("The root help lists the commands and hides checkpoint-soak")
    func rootHelp() {
        let result = MoeProcess.run(["--help"])
        #expect(result.status == 0)
        #expect(result.output.contains("USAGE: moe <subcommand>"))
        for command in ["bench", "train", "eval", "inspect"] {
            #expect(result.output.contains("\n  \(command) "), "missing \(command) in:\n\(result.output)")
        }
        #expect(!result.output.contains("checkpoint-soak"))
    }

    @Test("Every subcommand has help with its usage and key options", arguments: [
        ("bench", ["--batches", "--repeats", "--threads", "--seed", "--json"]),
        ("train", ["--epochs", "--save", "--resume", "--checkpoint-every", "--limit", "--hidden", "--data", "--json"]),
        ("eval", ["<checkpoint>", "--source", "--label-column", "--data", "--json"]),
        ("inspect", ["<checkpoint>", "--json"]),
        ("checkpoint-soak", ["<path>", "--count", "--sizes"]),
    ])
    func subcommandHelp(command: String, options: [String]) {
        let result = MoeProcess.run([command, "--help"])
        #expect(result.status == 0)
        #expect(result.error.isEmpty)
        #expect(result.output.contains("USAGE: moe \(command)"))
        for option in options {
            #expect(result.output.contains(option), "\(command) --help lacks \(option)")
        }
    }

    @Test("Every subcommand the root help lists (also ones added later) has working help")
    func everyListedSubcommand() {
        let root = MoeProcess.run(["--help"])
        guard let start = root.output.range(of: "SUBCOMMANDS:\n") else {
            Issue.record("no SUBCOMMANDS section in:\n\(root.output)")
            return
        }
        // Entries are indented by two spaces, wrapped abstracts by more; a blank line
        // ends the list.
        let names = root.output[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { !$0.isEmpty }
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(names.count >= 4, "\(names)")
        for name in names {
            let result = MoeProcess.run([name, "--help"])
            #expect(result.status == 0, "moe \(name) --help exited \(result.status): \(result.error)")
            #expect(result.output.contains("USAGE: moe \(name)"), "moe \(name) --help:\n\(result.output)")
            #expect(result.output.contains("OVERVIEW: "), "moe \(name) --help has no abstract")
        }
    }

    @Test("Hidden test options stay out of train's help")
    func hiddenOptions() {
        let result = MoeProcess.run(["train", "--help"])
        #expect(!result.output.contains("--stop-after-steps"))
    }
}
