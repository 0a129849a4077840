using ComputeLedger.Host.Usage.Exporting;
using Marten;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeLedger.Host.Cli;

/// <summary><c>export contract-commitments</c>: the HTTP export's FOCUS 1.3 Contract Commitment rows, to a file.</summary>
public sealed class ExportContractCommitmentsCommand(IDocumentStore store) : AsyncCommand<ExportFocusSettings>
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
        var rows = await ContractCommitmentExport.Rows(session, window.From, window.To, window.Axes, cancellationToken);
        await using (var file = new StreamWriter(settings.Out!))
        {
            await ContractCommitmentExport.Write(rows, file, cancellationToken);
        }

        Consoles.Error.MarkupLineInterpolated($"export: {rows.Count:N0} contract commitment rows written to {settings.Out}");
        return 0;
    }
}
