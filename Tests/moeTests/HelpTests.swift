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

    @Test("Hidden test options stay out of train's help")
    func hiddenOptions() {
        let result = MoeProcess.run(["train", "--help"])
        #expect(!result.output.contains("--stop-after-steps"))
    }
}
