using System.ComponentModel;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Usage.Exporting;
using Marten;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeLedger.Host.Cli;

public sealed class ExportFocusSettings : AxesSettings
{
    [CommandOption("--from <DATE>")]
    [Description("First day of charges, yyyy-MM-dd (inclusive).")]
    public string? From { get; set; }

    [CommandOption("--to <DATE>")]
    [Description("Last day of charges, yyyy-MM-dd (inclusive).")]
    public string? To { get; set; }

    [CommandOption("--out <FILE>")]
    [Description("The CSV file to write (replaced if it exists; deleted again if the export fails midway).")]
    public string? Out { get; set; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Out) ? ValidationResult.Error("--out FILE.csv is required.") : ValidationResult.Success();

    /// <summary>
    /// What both exports do first: check the window (refused: exit 2 with the reasons), bring the schema up to date, open
    /// a query session, then run <paramref name="export"/> with the window.
    /// </summary>
    public async Task<int> Run(IDocumentStore store,
        Func<IQuerySession, (LocalDate From, LocalDate To, TimeAxes Axes), Task<int>> export)
    {
        var errors = new List<(string Field, string Message)>();
        if (FocusExport.Window(From, To, AsOf, KnownAt, errors) is not { } window)
        {
            return AnalystCli.Refused(errors);
        }

        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await using var session = store.QuerySession();
        return await export(session, window);
    }
}

/// <summary><c>export focus</c>: the HTTP export's rows and CSV writer, to a file.</summary>
public sealed class ExportFocusCommand(IDocumentStore store) : AsyncCommand<ExportFocusSettings>
{
    protected override Task<int> ExecuteAsync(CommandContext context, ExportFocusSettings settings, CancellationToken cancellationToken) =>
        settings.Run(store, (session, window) => Export(session, window, settings.Out!, cancellationToken));

    private static async Task<int> Export(IQuerySession session, (LocalDate From, LocalDate To, TimeAxes Axes) window, string output,
        CancellationToken cancellationToken)
    {
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
