using System.ComponentModel;
using System.Text.Json;
using ComputeLedger.Host.Commitments;
using ComputeLedger.Host.Commitments.Reading;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Usage.Reading;
using Marten;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeLedger.Host.Cli;

public sealed class ReplaySettings : AxesSettings
{
    private static readonly string[] Views = ["eligibility", "spend", "revenue", "drawdown"];
    private static readonly string[] Formats = ["table", "csv", "json"];

    [CommandOption("--view <VIEW>")]
    [Description("eligibility, spend, revenue or drawdown.")]
    public string? View { get; set; }

    [CommandOption("--commitment <ID>")]
    [Description("One commitment (needed by drawdown; eligibility lists all without it).")]
    public string? Commitment { get; set; }

    [CommandOption("--from <MONTH>")]
    [Description("First month, yyyy-MM (spend, revenue).")]
    public string? From { get; set; }

    [CommandOption("--to <MONTH>")]
    [Description("Last month, yyyy-MM (spend, revenue).")]
    public string? To { get; set; }

    [CommandOption("--format <FORMAT>")]
    [Description("table, csv or json.")]
    [DefaultValue("table")]
    public string Format { get; set; } = "table";

    public override ValidationResult Validate() =>
        !Views.Contains(View) ? ValidationResult.Error($"--view must be eligibility, spend, revenue or drawdown, not '{View}'.")
        : View == "drawdown" && Commitment is null ? ValidationResult.Error("the drawdown view needs --commitment ID.")
        : !Formats.Contains(Format) ? ValidationResult.Error("--format must be table, csv or json.")
        : ValidationResult.Success();
}

/// <summary><c>replay</c>: a view as the API answers it on the same axes, printed as a table, CSV or JSON.</summary>
public sealed class ReplayCommand(IDocumentStore store, IClock clock) : AsyncCommand<ReplaySettings>
{
    protected override async Task<int> ExecuteAsync(CommandContext context, ReplaySettings settings, CancellationToken cancellationToken)
    {
        var errors = new List<(string Field, string Message)>();
        var axes = TimeAxes.Parse(settings.AsOf, settings.KnownAt, errors);
        var months = settings.View is "spend" or "revenue" ? MonthsQuestion.Parse(settings.From, settings.To, settings.AsOf, settings.KnownAt, errors) : null;
        if (axes is null || (settings.View is "spend" or "revenue" && months is null))
        {
            return AnalystCli.Refused(errors.DistinctBy(e => e.Field));
        }

        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await using var session = store.QuerySession();
        var now = clock.GetCurrentInstant();
        var (answer, missing) = await ShowingProgress.Replay(progress => Answer(settings, axes, months, session, now, progress, cancellationToken));
        if (answer is null)
        {
            return AnalystCli.Refused([("commitment", missing!)]);
        }

        var node = JsonSerializer.SerializeToNode(answer, Json.Options)!;
        switch (settings.Format)
        {
            case "json":
                await Console.Out.WriteLineAsync(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }).AsMemory(), cancellationToken);
                break;
            case "csv":
                await Tabular.WriteCsv(FlatRows.Of(node), Console.Out, cancellationToken);
                break;
            default:
                var rows = FlatRows.Of(node);
                Tabular.WriteTable(rows, Consoles.Out, column => column.Contains("milestones", StringComparison.Ordinal));
                Consoles.Error.MarkupLineInterpolated($"{rows.Count} row(s)");
                break;
        }

        return 0;
    }

    /// <summary>The view's data, from the functions the endpoints call, or why there is none.</summary>
    private static async Task<(object? Answer, string? Missing)> Answer(ReplaySettings settings, TimeAxes axes, MonthsQuestion? months,
        IQuerySession session, Instant now, ReplayProgress progress, CancellationToken ct)
    {
        switch (settings.View)
        {
            case "eligibility" when settings.Commitment is { } id:
                var (view, missing) = await CommitmentQueries.EligibilityOf(id, axes, session, ct);
                return (view is null ? null : EligibilityResponse.From(view), missing);
            case "eligibility":
                return (await CommitmentQueries.Summaries(axes, session, ct), null);
            case "spend":
                return (await UsageReads.Spend(months!, null, null, session, now, progress, ct), null);
            case "revenue":
                return (await UsageReads.Revenue(months!, null, session, now, progress, ct), null);
            default:
                var (drawdown, none) = await UsageReads.Drawdown(settings.Commitment!, axes, session, now, progress, ct);
                return (drawdown, none);
        }
    }
}
