using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Seed;
using ComputeLedger.Host.Usage.Reading;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Commitments.Reading;

/// <summary>
/// One deal's layout: <c>upfront + released + eligible + locked = headline</c>, where released, eligible and locked
/// are the milestone tranches (the upfront is listed on its own, paid or not). Firm is what does not wait on a
/// milestone (upfront + released); contingent is what still does (locked). Round trip: the partner's consumption on the
/// investor's own cloud over what the investor paid the partner; null without a cloud or before anything was paid.
/// </summary>
public sealed record DealRow(
    string CommitmentId, string Investor, string Partner, string Provider, CommitmentStatus Status, string Structure, LocalDate? SignedOn,
    Money Headline, Money Upfront, Money Released, Money Eligible, Money Locked, decimal? FirmShare, decimal? ContingentShare,
    Money? CommittedCompute, Money? Consumed, string? InvestorCloud, Money? ConsumedOnInvestorCloud, decimal? RoundTrip);

/// <summary>An investor's deals summed: firm and contingent of signed deals, open offers, and declined offers apart.</summary>
public sealed record InvestorRow(string Investor, Money Headline, Money Firm, Money Eligible, Money Contingent, Money Offered, Money Declined, int Deals);

public sealed record DealsResponse(IReadOnlyList<DealRow> Deals, IReadOnlyList<InvestorRow> ByInvestor);

public sealed record InvestorCloud(string Investor, string Provider);

/// <summary>Which cloud each investor owns: reference data read from Seed/investor-clouds.json, not code.</summary>
public sealed record InvestorClouds(List<InvestorCloud> Clouds)
{
    private static readonly Lazy<Task<InvestorClouds>> Loaded = new(() => DemoDataSeeder.Load<InvestorClouds>("investor-clouds.json", CancellationToken.None));

    public static Task<InvestorClouds> Get() => Loaded.Value;

    public string? Of(string investor) => Clouds.FirstOrDefault(c => string.Equals(c.Investor, investor, StringComparison.OrdinalIgnoreCase))?.Provider;
}

/// <summary>The article's "Comparison of Major AI Infrastructure Deals" table, on both time axes.</summary>
public static class DealsQuery
{
    [WolverineGet("/api/deals", OperationId = "GetDeals")]
    [Tags("Commitments")]
    public static async Task<IResult> Get(string? asOf, string? knownAt, IQuerySession session, ReplayProgress progress, CancellationToken ct)
    {
        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        var commitments = await CommitmentQueries.All(session, axes!, ct);
        var drawdowns = (await UsageHistory.Views(session, axes!, ct, progress)).Drawdowns;
        var clouds = await InvestorClouds.Get();
        var deals = commitments.OrderBy(c => c.Investor, StringComparer.Ordinal).ThenBy(c => c.CommitmentId, StringComparer.Ordinal)
            .Select(c => Row(c, commitments, drawdowns, clouds.Of(c.Investor))).ToList();
        var byInvestor = deals.GroupBy(d => (d.Investor, d.Headline.Currency))
            .Select(g =>
            {
                var zero = Money.Zero(g.Key.Currency);
                Money Sum(IEnumerable<DealRow> rows, Func<DealRow, Money> pick) => rows.Aggregate(zero, (s, r) => s.Plus(pick(r)));
                var signed = g.Where(d => d.Status == CommitmentStatus.Signed).ToList();
                return new InvestorRow(g.Key.Investor, Sum(g, d => d.Headline),
                    Sum(signed, d => d.Upfront.Plus(d.Released)), Sum(signed, d => d.Eligible), Sum(signed, d => d.Locked),
                    Sum(g.Where(d => d.Status == CommitmentStatus.Offered), d => d.Headline),
                    Sum(g.Where(d => d.Status == CommitmentStatus.Declined), d => d.Headline), g.Count());
            })
            .OrderBy(i => i.Investor, StringComparer.Ordinal).ToList();
        return TypedResults.Ok(new DealsResponse(deals, byInvestor));
    }

    private static DealRow Row(TrancheEligibility c, IReadOnlyList<TrancheEligibility> all, IReadOnlyDictionary<string, Projections.Usage.Drawdown> drawdowns, string? cloud)
    {
        var zero = Money.Zero(c.Headline.Currency);
        Money Sum(Func<TrancheProgress, bool> which) => c.Tranches.Where(t => t.TrancheId != CommitmentTerms.UpfrontTrancheId && which(t))
            .Aggregate(zero, (s, t) => s.Plus(t.Amount));
        var upfront = c.Tranches.Where(t => t.TrancheId == CommitmentTerms.UpfrontTrancheId).Aggregate(zero, (s, t) => s.Plus(t.Amount));
        var released = Sum(t => t.Status == TrancheStatus.Released);
        var eligible = Sum(t => t.Status == TrancheStatus.Eligible);
        var locked = c.Status == CommitmentStatus.Declined ? zero : Sum(t => t.Status == TrancheStatus.Locked);

        var consumed = c.ComputeCommitment is { } compute
            ? drawdowns.TryGetValue(c.CommitmentId, out var d) && d.Consumed is { } m ? m : Money.Zero(compute.CommittedSpend.Currency)
            : (Money?)null;

        // The partner's consumption on the investor's own cloud, under any of the partner's commitments there.
        Money? onCloud = null;
        decimal? roundTrip = null;
        if (cloud is not null)
        {
            onCloud = all.Where(o => o.Partner == c.Partner && o.Provider == cloud)
                .Select(o => drawdowns.TryGetValue(o.CommitmentId, out var od) ? od.Consumed : null)
                .OfType<Money>().Where(m => m.Currency == c.Headline.Currency)
                .Aggregate(zero, (s, m) => s.Plus(m));
            var paid = upfront.Plus(released).Amount;
            roundTrip = c.Status == CommitmentStatus.Signed && paid > 0 ? decimal.Round(onCloud.Value.Amount / paid, 6, MidpointRounding.AwayFromZero) : null;
        }

        return new DealRow(c.CommitmentId, c.Investor, c.Partner, c.Provider, c.Status, c.Structure, c.SignedOn,
            c.Headline, upfront, released, eligible, locked, Share(upfront.Plus(released), c.Headline), Share(locked, c.Headline),
            c.ComputeCommitment?.CommittedSpend, consumed, cloud, onCloud, roundTrip);
    }

    private static decimal? Share(Money part, Money whole) =>
        whole.Amount == 0 ? null : decimal.Round(part.Amount / whole.Amount, 6, MidpointRounding.AwayFromZero);
}
