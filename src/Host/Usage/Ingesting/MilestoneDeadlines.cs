using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;
using Marten;

namespace ComputeLedger.Host.Usage.Ingesting;

/// <summary>
/// Once a minute, records consumption milestones whose deadline day has passed: achieved if usage crossed the threshold
/// by then, missed otherwise. A deadline needs a clock to pass, so this is the one detector that no request triggers.
/// </summary>
public sealed class MilestoneDeadlines(IDocumentStore store, IClock clock, ILogger<MilestoneDeadlines> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1));
        do
        {
            try
            {
                await RunOnce(store, clock.GetCurrentInstant(), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Checking milestone deadlines failed; retrying in a minute");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public static async Task RunOnce(IDocumentStore store, Instant now, CancellationToken ct)
    {
        await using var query = store.QuerySession();
        var signed = await query.Query<TrancheEligibility>().Where(c => c.Status == CommitmentStatus.Signed).Select(c => c.CommitmentId).ToListAsync(ct);
        foreach (var commitmentId in signed)
        {
            await using var session = store.LightweightSession();
            await session.BeginTransactionAsync(ct);
            await ConsumptionMilestones.CheckDeadlines(session, commitmentId, now, ct);
            await session.SaveChangesAsync(ct);
        }
    }
}
