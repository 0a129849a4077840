using System.Diagnostics;
using System.Text.Json.Nodes;
using ComputeLedger.Host.Tests.Faults;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Tests.Usage;
using Shouldly;

namespace ComputeLedger.Host.Tests.Cli;

/// <summary>
/// The analyst commands, run as the host binary against the test database: they print what the endpoints answer (they
/// call the same query functions), the result alone on stdout, refusals as exit code 2 with nothing on stdout.
/// </summary>
public class The_cli_answers_as_the_api(LedgerFixture fixture) : UsageTest(fixture)
{
    private async Task<(int Code, string Out, string Error)> Cli(params string[] args)
    {
        var directory = LedgerProcess.HostDirectory();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(directory, "ComputeLedger.Host.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_CONTENTROOT"] = directory;
        start.Environment["LEDGER_POSTGRES"] = Fixture.ConnectionString;
        start.Environment["Ledger__SeedDemoData"] = "false";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var ct = TestContext.Current.CancellationToken;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return (process.ExitCode, await output, await error);
    }

    private async Task Arrange()
    {
        (await Post(Record("a", 2m), Record("b", 3m, chip: "Inferentia2"), Record("c", 1.5m, region: null))).Code.ShouldBe(200);
        await CatchUp();
    }

    [Fact]
    public async Task Spend_as_json_is_the_api_answer()
    {
        await Arrange();

        var cli = await Cli("replay", "--view", "spend", "--from", "2025-01", "--to", "2025-12", "--format", "json");
        var api = await Analyst.GetJson("/api/spend/chips?from=2025-01&to=2025-12");

        cli.Code.ShouldBe(0, cli.Error);
        api.Json["rows"]!.AsArray().Count.ShouldBeGreaterThan(0);
        JsonNode.Parse(cli.Out)!["rows"]!.ToJsonString().ShouldBe(api.Json["rows"]!.ToJsonString());
    }

    [Fact]
    public async Task Spend_as_csv_has_a_line_per_row_with_the_api_figures()
    {
        await Arrange();

        var cli = await Cli("replay", "--view", "spend", "--format", "csv");
        var api = (await Analyst.GetJson("/api/spend/chips")).Json["rows"]!.AsArray();

        cli.Code.ShouldBe(0, cli.Error);
        var lines = cli.Out.TrimEnd('\n').Split('\n');
        var header = lines[0].Split(',');
        lines.Length.ShouldBe(1 + api.Count, cli.Out);
        for (var i = 0; i < api.Count; i++)
        {
            var fields = lines[i + 1].Split(',');
            fields[Array.IndexOf(header, "chip")].ShouldBe(api[i]!["chip"]!.GetValue<string>());
            fields[Array.IndexOf(header, "spend.amount")].ShouldBe(api[i]!["spend"]!["amount"]!.ToJsonString());
        }
    }

    [Fact]
    public async Task The_focus_export_file_is_the_http_export()
    {
        await Arrange();
        var file = Path.Combine(Path.GetTempPath(), $"focus-{Guid.NewGuid():N}.csv");
        try
        {
            var cli = await Cli("export", "focus", "--from", "2025-01-01", "--to", "2025-12-31", "--out", file);
            var http = await Analyst.GetStringAsync("/api/export/focus.csv?from=2025-01-01&to=2025-12-31", TestContext.Current.CancellationToken);

            cli.Code.ShouldBe(0, cli.Error);
            cli.Out.ShouldBeEmpty();
            http.Split('\n').Length.ShouldBe(1 + 3 + 1);
            (await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken)).ShouldBe(http);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("replay", "--view", "revenue", "--from", "July")]
    [InlineData("replay", "--view", "eligibility", "--as-of", "yesterday")]
    [InlineData("replay", "--view", "drawdown")]
    [InlineData("replay", "--view", "bogus")]
    [InlineData("export", "focus", "--from", "2025-07-01", "--to", "2025-07-31")]
    [InlineData("export", "focus", "--from", "2025-07-31", "--to", "2025-07-01", "--out", "never.csv")]
    public async Task Refused_input_is_exit_code_2_with_a_reason_and_nothing_on_stdout(params string[] args)
    {
        var cli = await Cli(args);

        cli.Code.ShouldBe(2, cli.Error);
        cli.Out.ShouldBeEmpty();
        cli.Error.ShouldContain("error:");
    }

    [Theory]
    [InlineData("replay", "--help")]
    [InlineData("export", "focus", "--help")]
    public async Task Every_command_has_help(params string[] args)
    {
        var cli = await Cli(args);

        cli.Code.ShouldBe(0, cli.Error);
        cli.Out.ShouldContain("USAGE:");
        cli.Out.ShouldContain("--as-of");
    }
}
