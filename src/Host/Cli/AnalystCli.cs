using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComputeLedger.Host.Commitments.Reading;
using ComputeLedger.Host.Usage.Exporting;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Usage.Reading;
using Marten;

namespace ComputeLedger.Host.Cli;

/// <summary>Prints replay progress to stderr, so stdout stays clean for the table, CSV or JSON.</summary>
public sealed class ConsoleReplayProgress : ReplayProgress
{
    public override void Read(long events) => Console.Error.Write($"\rreplaying: {events:N0} events read");

    public override void Finished(long events) => Console.Error.WriteLine($"\rreplaying: {events:N0} events read, folding");
}

/// <summary>
/// The analysts' commands: <c>replay</c> and <c>export focus</c>. They call the very query code the HTTP endpoints run
/// (same validation, same answers), against the configured database, without starting the web server.
/// </summary>
public static class AnalystCli
{
    public static bool Handles(string[] args) => args is ["replay", ..] or ["export", ..];

    private static TextWriter _out = Console.Out;

    /// <summary>
    /// Keeps stdout for the command's output alone: the framework's start-up chatter (JasperFx prints its command
    /// discovery to stdout) would otherwise corrupt CSV and JSON.
    /// </summary>
    public static void TakeStdout()
    {
        _out = Console.Out;
        Console.SetOut(TextWriter.Null);
    }

    private const string Usage = """
        usage:
          replay --view eligibility|spend|revenue|drawdown [--commitment ID] [--as-of DATE] [--known-at DATE]
                 [--from yyyy-MM] [--to yyyy-MM] [--format table|csv|json]
          export focus --from DATE --to DATE [--as-of DATE] [--known-at DATE] --out FILE.csv
        DATE is 2025-12-31 (end of that day, UTC) or an instant such as 2025-12-31T12:00:00Z.
        """;

    public static async Task<int> Run(WebApplication app, string[] args)
    {
        var ct = CancellationToken.None;
        string? Option(string name)
        {
            var at = Array.LastIndexOf(args, name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
        }

        var store = app.Services.GetRequiredService<IDocumentStore>();
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await using var session = store.QuerySession();
        var clock = app.Services.GetRequiredService<IClock>();
        var progress = app.Services.GetRequiredService<ReplayProgress>();
        var response = new DefaultHttpContext().Response;
        var (asOf, knownAt) = (Option("--as-of"), Option("--known-at"));

        if (args is ["export", "focus", ..])
        {
            var output = Option("--out");
            var (window, problem) = FocusExport.Window(Option("--from"), Option("--to"), asOf, knownAt);
            if (problem is not null || output is null)
            {
                return Fail(problem is null ? "--out FILE.csv is required." : Detail(problem));
            }

            // Rows go to the file as the events are read; stderr shows how far it got, at most four times a second.
            var shown = Stopwatch.StartNew();
            var tally = new ExportProgress(p =>
            {
                if (shown.ElapsedMilliseconds >= 250)
                {
                    Console.Error.Write($"\rexport: {p.Events:N0} events read, {p.Rows:N0} rows written");
                    shown.Restart();
                }
            });
            try
            {
                await using var file = new StreamWriter(output);
                await FocusExport.Write(FocusExport.Rows(session, window!.Value.From, window.Value.To, window.Value.Axes, tally, ct), file, tally, ct);
            }
            catch
            {
                // A short file must not pass for a whole export.
                Console.Error.WriteLine();
                File.Delete(output);
                throw;
            }

            Console.Error.WriteLine($"\rexport: {tally.Events:N0} events read, {tally.Rows:N0} FOCUS rows written to {output}");
            return 0;
        }

        if (args is not ["replay", ..])
        {
            return Fail("unknown command.");
        }

        var commitment = Option("--commitment");
        IResult result = Option("--view") switch
        {
            "eligibility" when commitment is not null => await CommitmentQueries.Eligibility(commitment, asOf, knownAt, session, response, ct),
            "eligibility" => await CommitmentQueries.List(asOf, knownAt, session, ct),
            "spend" => await UsageQueries.Spend(Option("--from"), Option("--to"), null, null, asOf, knownAt, session, clock, response, progress, ct),
            "revenue" => await UsageQueries.Revenue(Option("--from"), Option("--to"), null, asOf, knownAt, session, clock, response, progress, ct),
            "drawdown" when commitment is not null => await UsageQueries.Drawdown(commitment, asOf, knownAt, session, clock, response, progress, ct),
            "drawdown" => Problems.Invalid("--commitment", "the drawdown view needs --commitment ID."),
            var view => Problems.Invalid("--view", $"--view must be eligibility, spend, revenue or drawdown, not '{view}'."),
        };

        if (result is IStatusCodeHttpResult { StatusCode: >= 400 })
        {
            return Fail(Detail(result));
        }

        var node = JsonSerializer.SerializeToNode((result as IValueHttpResult)?.Value, Json.Options)!;
        switch (Option("--format") ?? "table")
        {
            case "json":
                _out.WriteLine(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                break;
            case "csv":
                WriteCsv(Rows(node));
                break;
            case "table":
                WriteTable(Rows(node));
                break;
            default:
                return Fail("--format must be table, csv or json.");
        }

        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        Console.Error.WriteLine(Usage);
        return 2;
    }

    private static string Detail(IResult result) =>
        (result as IValueHttpResult)?.Value is Microsoft.AspNetCore.Mvc.ProblemDetails p ? p.Detail ?? p.Title ?? "refused" : "refused";

    /// <summary>The rows of a view: its rows, tranches or months, flattened to column → text.</summary>
    private static List<Dictionary<string, string>> Rows(JsonNode node)
    {
        var rows = node switch
        {
            JsonArray array => array,
            JsonObject o when o["rows"] is JsonArray r => r,
            JsonObject o when o["tranches"] is JsonArray t => t,
            JsonObject o when o["byMonth"] is JsonArray m => m,
            _ => new JsonArray(node.DeepClone()),
        };

        return rows.Select(row =>
        {
            var flat = new Dictionary<string, string>(StringComparer.Ordinal);
            Flatten(row, "", flat);
            return flat;
        }).ToList();
    }

    private static void Flatten(JsonNode? node, string prefix, Dictionary<string, string> into)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    Flatten(value, prefix.Length == 0 ? key : $"{prefix}.{key}", into);
                }

                break;
            case JsonArray a:
                into[prefix] = string.Join(";", a.Select(x => x is JsonObject ? x.ToJsonString() : x?.ToString() ?? ""));
                break;
            default:
                into[prefix] = node?.ToString() ?? "";
                break;
        }
    }

    private static List<string> ColumnsOf(List<Dictionary<string, string>> rows) => rows.SelectMany(r => r.Keys).Distinct().ToList();

    private static void WriteCsv(List<Dictionary<string, string>> rows)
    {
        var columns = ColumnsOf(rows);
        _out.WriteLine(string.Join(',', columns));
        foreach (var row in rows)
        {
            _out.WriteLine(string.Join(',', columns.Select(c => row.GetValueOrDefault(c, "")).Select(v =>
                v.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{v.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : v)));
        }
    }

    private static void WriteTable(List<Dictionary<string, string>> rows)
    {
        var columns = ColumnsOf(rows).Where(c => !c.Contains("milestones", StringComparison.Ordinal)).ToList();
        var widths = columns.Select(c => Math.Min(40, Math.Max(c.Length, rows.Select(r => r.GetValueOrDefault(c, "").Length).DefaultIfEmpty(0).Max()))).ToList();
        string Cell(string text, int width) => (text.Length > width ? text[..(width - 1)] + "…" : text).PadRight(width);
        _out.WriteLine(string.Join("  ", columns.Select((c, i) => Cell(c, widths[i]))));
        _out.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
        {
            _out.WriteLine(string.Join("  ", columns.Select((c, i) => Cell(row.GetValueOrDefault(c, ""), widths[i]))));
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rows.Count} row(s)"));
    }
}
