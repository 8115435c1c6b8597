using OdooOps.Runners.Agent.Pipeline;

namespace OdooOps.Tests.Runners.Agent.Pipeline;

/// <summary><c>.odooops.yml</c>: what a valid file becomes, and that each invalid one names its line.</summary>
public sealed class PipelineFileTests
{
    [Fact]
    public void Reads_the_documented_example()
    {
        var pipeline = PipelineFile.Parse("""
            timeout: 30m          # whole build
            steps:
              - name: lint
                run: |
                  echo hello
                timeout: 90s
                env: {FOO: bar, COUNT: 3, ON: true, EMPTY: }
                continue_on_error: true
              - name: test
                run: pytest -q
            """);
        Assert.Equal(TimeSpan.FromMinutes(30), pipeline.Timeout);
        Assert.Equal(2, pipeline.Steps.Count);
        var lint = pipeline.Steps[0];
        Assert.Equal("lint", lint.Name);
        Assert.Equal("echo hello\n", lint.Run);
        Assert.Equal(TimeSpan.FromSeconds(90), lint.Timeout);
        Assert.Equal(new Dictionary<string, string> { ["FOO"] = "bar", ["COUNT"] = "3", ["ON"] = "true", ["EMPTY"] = "" }, lint.Env);
        Assert.True(lint.ContinueOnError);
        Assert.Null(lint.SkipReason);
        var test = pipeline.Steps[1];
        Assert.Equal(("test", "pytest -q"), (test.Name, test.Run));
        Assert.Null(test.Timeout);
        Assert.Empty(test.Env);
        Assert.False(test.ContinueOnError);
        Assert.False(test.Skipped);
    }

    [Fact]
    public void Timeout_is_optional_and_scalars_are_taken_as_written()
    {
        var pipeline = PipelineFile.Parse("steps:\n- {name: 42, run: 'true', timeout: 45, continue_on_error: False}\n");
        Assert.Null(pipeline.Timeout);
        Assert.Equal(("42", "true", TimeSpan.FromSeconds(45), false),
            (pipeline.Steps[0].Name, pipeline.Steps[0].Run, pipeline.Steps[0].Timeout, pipeline.Steps[0].ContinueOnError));
    }

    [Theory]
    [InlineData("", 1, "the file is empty")]
    [InlineData("# only a comment\n", 1, "the file is empty")]
    [InlineData("- a\n- b\n", 1, "must be a mapping")]
    [InlineData("timeout: 10m\n", 1, "steps is required")]
    [InlineData("steps:\n", 1, "steps must be a list")]
    [InlineData("steps: []\n", 1, "at least one step")]
    [InlineData("steps: {name: a}\n", 1, "steps must be a list")]
    [InlineData("steps:\n  - name: a\n    run: x\n  - lint\n", 4, "steps[1] must be a mapping")]
    [InlineData("steps:\n  - name: a\n    run: x\n  - name: b\n", 4, "steps[1].run is required")]
    [InlineData("steps:\n  - run: x\n", 2, "steps[0].name is required")]
    [InlineData("steps:\n  - name: a\n    run: '   '\n", 3, "steps[0].run must not be empty")]
    [InlineData("steps:\n  - name:\n    run: x\n", 2, "steps[0].name is required")]
    [InlineData("steps:\n  - name: ''\n    run: x\n", 2, "steps[0].name must not be empty")]
    [InlineData("steps:\n  - name: \"a\\tb\"\n    run: x\n", 2, "one line without control characters")]
    [InlineData("steps:\n  - name: [a]\n    run: x\n", 2, "steps[0].name must be a single value, not a list")]
    [InlineData("steps:\n  - name: a\n    run: {x: 1}\n", 3, "steps[0].run must be a single value, not a mapping")]
    [InlineData("steps:\n  - name: a\n    run: x\n    script: y\n", 4, "unknown key 'steps[0].script'")]
    [InlineData("stages: [a]\nsteps:\n  - {name: a, run: x}\n", 1, "unknown key 'stages'")]
    [InlineData("steps:\n  - {name: lint, run: x}\n  - {name: test, run: y}\n  - {name: Lint, run: z}\n", 4,
        "steps[2].name 'Lint' is already used by steps[0]")]
    [InlineData("timeout: 10x\nsteps:\n  - {name: a, run: x}\n", 1, "timeout '10x' is not a duration")]
    [InlineData("steps:\n  - name: a\n    run: x\n    timeout: 1m30\n", 4, "steps[0].timeout '1m30' is not a duration")]
    [InlineData("steps:\n  - name: a\n    run: x\n    timeout: 0s\n", 4, "must be between 1s and 24h")]
    [InlineData("steps:\n  - name: a\n    run: x\n    timeout: 25h\n", 4, "must be between 1s and 24h")]
    [InlineData("steps:\n  - name: a\n    run: x\n    timeout: [1m]\n", 4, "steps[0].timeout must be a single value")]
    [InlineData("steps:\n  - name: a\n    run: x\n    env: [FOO]\n", 4, "steps[0].env must be a mapping")]
    [InlineData("steps:\n  - name: a\n    run: x\n    env:\n      GOOD: 1\n      1BAD: 2\n", 6, "env key '1BAD' is not a valid environment variable name")]
    [InlineData("steps:\n  - name: a\n    run: x\n    env: {A-B: 1}\n", 4, "env key 'A-B' is not a valid")]
    [InlineData("steps:\n  - name: a\n    run: x\n    env: {FOO: [1, 2]}\n", 4, "steps[0].env.FOO must be a single value, not a list")]
    [InlineData("steps:\n  - name: a\n    run: x\n    continue_on_error: sometimes\n", 4, "continue_on_error must be true or false")]
    [InlineData("steps:\n  - {name: a, run: x}\n---\nsteps: []\n", 4, "only one YAML document")]
    public void Refuses_invalid_files_naming_the_line(string yaml, int line, string expected)
    {
        var error = Assert.Throws<PipelineFileException>(() => PipelineFile.Parse(yaml));
        Assert.Contains(expected, error.Message);
        Assert.StartsWith($"line {line}, column ", error.Message);
        Assert.Equal(line, error.Line);
    }

    [Theory]
    [InlineData("steps:\n  - name: a\n\trun: x\n", 2)]
    [InlineData("steps:\n  - name: 'a\n    run: x\n", 2)]
    [InlineData("steps:\n  - name: a\n    run: x\n   bad indent: 1\n", 4)]
    [InlineData("steps:\n  - {name: a, run: x\n", 3)]
    [InlineData("steps:\n  - name: a\n    name: b\n    run: x\n", 3)]
    [InlineData("steps:\n  - name: *nothing\n", 2)]
    public void Yaml_syntax_errors_carry_their_position(string yaml, int line)
    {
        var error = Assert.Throws<PipelineFileException>(() => PipelineFile.Parse(yaml));
        Assert.Equal(line, error.Line);
        Assert.StartsWith($"line {line}, column {error.Column}: YAML syntax error: ", error.Message);
        Assert.DoesNotContain("Idx:", error.Message);
    }

    [Fact]
    public void Allows_one_hundred_steps_and_refuses_the_hundred_and_first_at_its_line()
    {
        string Steps(int n) => "steps:\n" + string.Concat(Enumerable.Range(0, n).Select(i => $"  - {{name: s{i}, run: x}}\n"));
        Assert.Equal(100, PipelineFile.Parse(Steps(100)).Steps.Count);
        var error = Assert.Throws<PipelineFileException>(() => PipelineFile.Parse(Steps(101)));
        Assert.Equal(102, error.Line);
        Assert.Contains("at most 100 steps", error.Message);
    }

    [Fact]
    public void Names_may_be_one_hundred_characters_long()
    {
        Assert.Equal(100, PipelineFile.Parse($"steps: [{{name: {new string('n', 100)}, run: x}}]").Steps[0].Name.Length);
        var error = Assert.Throws<PipelineFileException>(() => PipelineFile.Parse($"steps: [{{name: {new string('n', 101)}, run: x}}]"));
        Assert.Contains("steps[0].name is longer than 100 characters", error.Message);
    }

    [Fact]
    public void Deep_nesting_is_refused_before_it_can_exhaust_the_stack()
    {
        var yaml = "steps: " + new string('[', 200_000) + new string(']', 200_000);
        var error = Assert.Throws<PipelineFileException>(() => PipelineFile.Parse(yaml));
        Assert.Contains("nests more than", error.Message);
    }

    [Fact]
    public void TryLoad_reads_the_repository_file_and_answers_null_without_one()
    {
        var repo = Directory.CreateTempSubdirectory("odooops-pipeline-");
        try
        {
            Assert.Null(PipelineFile.TryLoad(repo.FullName));
            File.WriteAllText(Path.Combine(repo.FullName, ".odooops.yml"), "steps:\n  - name: build\n    run: make\n");
            Assert.Equal("make", PipelineFile.TryLoad(repo.FullName)!.Steps.Single().Run);

            File.WriteAllText(Path.Combine(repo.FullName, ".odooops.yml"), "steps:\n  - name: build\n");
            Assert.Equal(2, Assert.Throws<PipelineFileException>(() => PipelineFile.TryLoad(repo.FullName)).Line);

            var elsewhere = Path.Combine(repo.FullName, "elsewhere.yml");
            File.WriteAllText(elsewhere, "steps: [{name: a, run: b}]");
            File.Delete(Path.Combine(repo.FullName, ".odooops.yml"));
            File.CreateSymbolicLink(Path.Combine(repo.FullName, ".odooops.yml"), elsewhere);
            Assert.Contains("symbolic link", Assert.Throws<PipelineFileException>(() => PipelineFile.TryLoad(repo.FullName)).Message);
        }
        finally { repo.Delete(true); }
    }

    [Theory]
    [InlineData("45", 45)]
    [InlineData("45s", 45)]
    [InlineData("10m", 600)]
    [InlineData("1h", 3600)]
    [InlineData("1h30m", 5400)]
    [InlineData("2m30s", 150)]
    [InlineData("1h0m5s", 3605)]
    public void Durations_in_the_documented_forms(string text, int seconds)
    {
        Assert.True(DurationText.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("m")]
    [InlineData("1.5h")]
    [InlineData("30m1h")]
    [InlineData("-5")]
    [InlineData("5 m")]
    [InlineData("5d")]
    [InlineData("PT5M")]
    [InlineData("99999999999999")]
    public void Other_durations_are_refused(string text) => Assert.False(DurationText.TryParse(text, out _));
}
