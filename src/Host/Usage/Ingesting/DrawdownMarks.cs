using ComputeLedger.Host.Integration;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Usage;
using Marten;
using Wolverine;

namespace ComputeLedger.Host.Usage.Ingesting;

/// <summary>
/// Records a DrawdownThresholdCrossed on the commitment stream the first time cumulative consumption reaches 50, 75, 90
/// and 100% of the committed compute. The drawdown read model is the cheap trigger; the decision is taken on the usage
/// claims (the ledger's own total), under the commitment's lock, so each mark is recorded once. Its business date is the
/// window start of the record that reached it, so late usage dates it right. A mark stays recorded if a void later takes
/// consumption back under it.
/// </summary>
public static class DrawdownMarks
{
    /// <param name="drawdown">The commitment's drawdown view as the caller read it: only the trigger, never the decision.</param>
    public static async Task Check(IDocumentSession session, IMessageBus bus, Drawdown drawdown, Instant now, CancellationToken ct)
    {
        if (drawdown is not { Committed: { Amount: > 0 } committed, Consumed: { } consumed } || consumed.Currency != committed.Currency)
        {
            return;
        }

        var commitmentId = drawdown.Id;

        static List<int> Due(Commitment? state, decimal fraction) => state is { Status: CommitmentStatus.Signed }
            ? Commitment.DrawdownMarks.Where(m => fraction * 100m >= m && !state.DrawdownThresholdsCrossed.Contains(m)).ToList()
            : [];

        // The view triggers; under the lock, the claims decide.
        await ConsumptionMilestones.DecideLocked(session, bus, commitmentId, state => Due(state, consumed.Amount / committed.Amount).Count > 0, async state =>
        {
            var total = await UsageClaims.Consumed(session, commitmentId, null, byHours: false, ct);
            var events = new List<object>();
            foreach (var mark in Due(state, total / committed.Amount))
            {
                if (await UsageClaims.Reaching(session, commitmentId, null, committed.Amount * mark / 100m, byHours: false, null, ct) is { } crossing)
                {
                    events.Add(new DrawdownThresholdCrossed(commitmentId, mark, committed, new Money(total, committed.Currency),
                        crossing.Start.InUtc().Date, crossing.UsageId, now));
                }
            }

            return events;
        }, ct);
    }
}
