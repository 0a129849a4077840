using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;
using ComputeLedger.Projections.Usage;
using Marten;
using Wolverine;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Integration;

namespace ComputeLedger.Host.Commitments.TrackingConsumption;

/// <summary>
/// The detectors no request triggers, run every Ledger:WatchSeconds (default 5): consumption milestones whose deadline day
/// has passed (achieved if usage crossed the threshold by then, missed otherwise), and drawdown marks reached by usage the
/// drawdown projection has folded. Each commitment is checked in its own outboxed transaction, so what it records and the
/// integration events it announces commit together.
/// </summary>
public sealed class CommitmentWatch(IServiceProvider services, IConfiguration configuration, IClock clock, ILogger<CommitmentWatch> logger)
    : PeriodicWork(configuration, "Ledger:WatchSeconds", 5)
{
    protected override Task Tick(CancellationToken ct) => RunOnce(services, clock.GetCurrentInstant(), ct);

    protected override void Failed(Exception fault) => logger.LogWarning(fault, "Watching commitments failed; retrying on the next tick");

    public static async Task RunOnce(IServiceProvider services, Instant now, CancellationToken ct)
    {
        var store = services.GetRequiredService<IDocumentStore>();
        List<string> signed;
        Dictionary<string, Drawdown> drawnHalf;
        await using (var query = store.QuerySession())
        {
            signed = [.. await query.Query<TrancheEligibility>().Where(c => c.Status == CommitmentStatus.Signed).Select(c => c.CommitmentId).ToListAsync(ct)];

            // Most commitments are under their first drawdown mark: one read of the drawdown view spares them a transaction.
            drawnHalf = (await query.LoadManyAsync<Drawdown>(ct, signed))
                .Where(d => d is { Committed.Amount: > 0, Consumed: { } c } && c.Amount >= d.Committed!.Value.Amount / 2)
                .ToDictionary(d => d.Id, StringComparer.Ordinal);
        }

        var logger = services.GetRequiredService<ILogger<CommitmentWatch>>();
        foreach (var commitmentId in signed)
        {
            // One commitment that cannot be evaluated (bad stored figures, a conflict) must not stop the watch for the rest;
            // it is tried again on the next tick.
            try
            {
                await InTransaction(services, (session, bus) => ConsumptionMilestones.CheckDeadlines(session, bus, commitmentId, now, ct), ct);
                if (drawnHalf.TryGetValue(commitmentId, out var drawdown))
                {
                    await InTransaction(services, (session, bus) => DrawdownMarks.Check(session, bus, drawdown, now, ct), ct);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Watching commitment {CommitmentId} failed; the others go on, and it is retried on the next tick", commitmentId);
            }
        }
    }

    private static async Task InTransaction(IServiceProvider services, Func<IDocumentSession, IMessageBus, Task> work, CancellationToken ct)
    {
        await using var outboxed = LedgerOutbox.Open(services);
        await outboxed.Session.BeginTransactionAsync(ct);
        await work(outboxed.Session, outboxed.Bus);
        await outboxed.Session.SaveChangesAsync(ct);
    }
}
