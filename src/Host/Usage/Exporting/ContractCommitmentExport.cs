using System.Globalization;
using System.Text;
using CsvHelper;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Usage.Exporting;

/// <summary>One row of FOCUS 1.3's Contract Commitment dataset.</summary>
public sealed record ContractCommitmentRow(
    string BillingCurrency, string Category, decimal? Cost, string Description, string Id, Instant PeriodStart, Instant PeriodEnd,
    decimal? Quantity, string Type, string? Unit, string ContractId, Instant ContractPeriodStart, Instant ContractPeriodEnd, string ServiceProviderName);

/// <summary>
/// The signed compute commitments as FOCUS 1.3 Contract Commitment rows: the contract is the deal (ContractId = commitment
/// id, its period the compute term); its committed spend is one Spend line (<see cref="ComputeLineId"/>), the line every
/// usage charge's ContractApplied names; each tranche the deal pays out (upfront included) is a Spend line of its own,
/// which no usage draws on. A commitment counts once signed on the valid-time axis (asOf) and recorded on the known-time
/// axis (knownAt), and when its term meets the from..to window.
/// </summary>
public static class ContractCommitmentExport
{
    public const string ComputeType = "Compute Commitment";
    public const string TrancheType = "Investment Tranche";

    public static readonly string[] Columns =
    [
        "BillingCurrency", "ContractCommitmentCategory", "ContractCommitmentCost", "ContractCommitmentDescription", "ContractCommitmentId",
        "ContractCommitmentPeriodStart", "ContractCommitmentPeriodEnd", "ContractCommitmentQuantity", "ContractCommitmentType",
        "ContractCommitmentUnit", "ContractId", "ContractPeriodStart", "ContractPeriodEnd", "ServiceProviderName",
    ];

    private static readonly Type[] CommitmentEvents = [typeof(CommitmentOffered), typeof(CommitmentSigned), typeof(CommitmentDeclined)];

    public static string ComputeLineId(string commitmentId) => $"{commitmentId}:compute";

    public static string TrancheLineId(string commitmentId, string trancheId) => $"{commitmentId}:tranche:{trancheId}";

    [WolverineGet("/api/export/contract-commitments.csv", OperationId = "ExportContractCommitments")]
    [Tags("Export")]
    public static async Task<IResult> Get(string? from, string? to, string? asOf, string? knownAt, IQuerySession session, CancellationToken ct)
    {
        var (window, problem) = FocusExport.Window(from, to, asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        var text = new StringWriter(CultureInfo.InvariantCulture);
        await Write(await Rows(session, window!.Value.From, window.Value.To, window.Value.Axes, ct), text, ct);
        return Results.File(Encoding.UTF8.GetBytes(text.ToString()), "text/csv; charset=utf-8",
            $"contract-commitments-{window.Value.From:yyyy-MM-dd}-{window.Value.To:yyyy-MM-dd}.csv");
    }

    /// <summary>One read of the commitment streams' lifecycle events (a few per deal), folded per deal.</summary>
    public static async Task<IReadOnlyList<ContractCommitmentRow>> Rows(IQuerySession session, LocalDate from, LocalDate to, TimeAxes axes, CancellationToken ct)
    {
        var events = await session.RecordedBefore(axes.KnownBefore, CommitmentEvents).OrderBy(e => e.Sequence).ToListAsync(ct);
        var rows = new List<ContractCommitmentRow>();
        foreach (var stream in events.GroupBy(e => e.StreamKey!, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var commitment = Commitment.Fold(stream.Select(e => e.Data));
            if (commitment is not { Status: CommitmentStatus.Signed, SignedOn: { } signedOn, Terms.Compute: { } compute }
                || (axes.ValidThrough is { } through && signedOn > through)
                || compute.TermEnd <= from || compute.TermStart > to)
            {
                continue;
            }

            var terms = commitment.Terms;
            var start = compute.TermStart.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
            var end = compute.TermEnd.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
            rows.Add(new ContractCommitmentRow(compute.CommittedSpend.Currency, "Spend", compute.CommittedSpend.Amount,
                $"{terms.Partner} commits to spend {compute.CommittedSpend} on {string.Join(" and ", compute.Chips)} with {compute.Provider} ({terms.Structure})",
                ComputeLineId(terms.CommitmentId), start, end, null, ComputeType, null, terms.CommitmentId, start, end, compute.Provider));

            var tranches = terms.Upfront.Amount > 0
                ? terms.Tranches.Prepend(new TrancheDefinition(CommitmentTerms.UpfrontTrancheId, terms.Upfront, []))
                : terms.Tranches;
            foreach (var tranche in tranches)
            {
                var when = tranche.Milestones.Count == 0 ? "paid on signing" : $"payable once {string.Join(" and ", tranche.Milestones)} achieved";
                rows.Add(new ContractCommitmentRow(tranche.Amount.Currency, "Spend", tranche.Amount.Amount,
                    $"{terms.Investor} pays {terms.Partner} {tranche.Amount}, {when}", TrancheLineId(terms.CommitmentId, tranche.TrancheId),
                    start, end, null, TrancheType, null, terms.CommitmentId, start, end, compute.Provider));
            }
        }

        return rows;
    }

    public static Task<long> Write(IReadOnlyList<ContractCommitmentRow> rows, TextWriter writer, CancellationToken ct) =>
        Tabular.WriteCsv(Columns, rows.ToAsyncEnumerable(), Line, writer, null, ct);

    private static void Line(CsvWriter csv, ContractCommitmentRow r)
    {
        csv.WriteField(r.BillingCurrency);
        csv.WriteField(r.Category);
        csv.WriteField(r.Cost is { } cost ? FocusExport.Number(cost) : "");
        csv.WriteField(r.Description);
        csv.WriteField(r.Id);
        csv.WriteField(FocusExport.Time(r.PeriodStart));
        csv.WriteField(FocusExport.Time(r.PeriodEnd));
        csv.WriteField(r.Quantity is { } quantity ? FocusExport.Number(quantity) : "");
        csv.WriteField(r.Type);
        csv.WriteField(r.Unit ?? "");
        csv.WriteField(r.ContractId);
        csv.WriteField(FocusExport.Time(r.ContractPeriodStart));
        csv.WriteField(FocusExport.Time(r.ContractPeriodEnd));
        csv.WriteField(r.ServiceProviderName);
    }
}
