using System.ComponentModel;
using ComputeLedger.Host.Usage.Exporting;
using Marten;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeLedger.Host.Cli;

public sealed class ExportFocusSettings : CommandSettings
{
    [CommandOption("--from <DATE>")]
    [Description("First day of charges, yyyy-MM-dd (inclusive).")]
    public string? From { get; set; }

    [CommandOption("--to <DATE>")]
    [Description("Last day of charges, yyyy-MM-dd (inclusive).")]
    public string? To { get; set; }

    [CommandOption("--as-of <DATE>")]
    [Description("Business time: 2025-12-31 (end of that day, UTC) or an instant such as 2025-12-31T12:00:00Z.")]
    public string? AsOf { get; set; }

    [CommandOption("--known-at <DATE>")]
    [Description("What the ledger had recorded by then; a date or an instant, as --as-of.")]
    public string? KnownAt { get; set; }

    [CommandOption("--out <FILE>")]
    [Description("The CSV file to write (replaced if it exists; deleted again if the export fails midway).")]
    public string? Out { get; set; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Out) ? ValidationResult.Error("--out FILE.csv is required.") : ValidationResult.Success();
}

/// <summary><c>export focus</c>: the HTTP export's rows and CSV writer, to a file.</summary>
public sealed class ExportFocusCommand(IDocumentStore store) : AsyncCommand<ExportFocusSettings>
{
    protected override async Task<int> ExecuteAsync(CommandContext context, ExportFocusSettings settings, CancellationToken cancellationToken)
    {
        var errors = new List<(string Field, string Message)>();
        if (FocusExport.Window(settings.From, settings.To, settings.AsOf, settings.KnownAt, errors) is not { } window)
        {
            return AnalystCli.Refused(errors);
        }

        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await using var session = store.QuerySession();
        var output = settings.Out!;
        var tally = await ShowingProgress.Export(async progress =>
        {
            try
            {
                await using var file = new StreamWriter(output);
                await FocusExport.Write(FocusExport.Rows(session, window.From, window.To, window.Axes, progress, cancellationToken), file, progress, cancellationToken);
                return progress;
            }
            catch
            {
                // A short file must not pass for a whole export.
                File.Delete(output);
                throw;
            }
        });

        Consoles.Error.MarkupLineInterpolated($"export: {tally.Events:N0} events read, {tally.Rows:N0} FOCUS rows written to {output}");
        return 0;
    }
}
