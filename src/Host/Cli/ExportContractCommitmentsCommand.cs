using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Usage.Exporting;
using Marten;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeLedger.Host.Cli;

/// <summary><c>export contract-commitments</c>: the HTTP export's FOCUS 1.3 Contract Commitment rows, to a file.</summary>
public sealed class ExportContractCommitmentsCommand(IDocumentStore store) : AsyncCommand<ExportFocusSettings>
{
    protected override Task<int> ExecuteAsync(CommandContext context, ExportFocusSettings settings, CancellationToken cancellationToken) =>
        settings.Run(store, (session, window) => Export(session, window, settings.Out!, cancellationToken));

    private static async Task<int> Export(IQuerySession session, (LocalDate From, LocalDate To, TimeAxes Axes) window, string output,
        CancellationToken cancellationToken)
    {
        var rows = await ContractCommitmentExport.Rows(session, window.From, window.To, window.Axes, cancellationToken);
        await using (var file = new StreamWriter(output))
        {
            await ContractCommitmentExport.Write(rows, file, cancellationToken);
        }

        Consoles.Error.MarkupLineInterpolated($"export: {rows.Count:N0} contract commitment rows written to {output}");
        return 0;
    }
}
