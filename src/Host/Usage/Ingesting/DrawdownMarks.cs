using ComputeLedger.Host.Integration;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Usage;
using Marten;
using Npgsql;
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
    public static async Task Check(IDocumentSession session, IMessageBus bus, string commitmentId, Instant now, CancellationToken ct)
    {
        var drawdown = await session.LoadAsync<Drawdown>(commitmentId, ct);
        if (drawdown is not { Committed: { Amount: > 0 } committed, Consumed: { } consumed } || consumed.Currency != committed.Currency)
        {
            return;
        }

        static List<int> Due(Commitment? state, decimal fraction) => state is { Status: CommitmentStatus.Signed }
            ? Commitment.DrawdownMarks.Where(m => fraction * 100m >= m && !state.DrawdownThresholdsCrossed.Contains(m)).ToList()
            : [];

        var before = Commitment.Fold((await session.Events.FetchStreamAsync(commitmentId, token: ct)).Select(e => e.Data));
        if (Due(before, consumed.Amount / committed.Amount).Count == 0)
        {
            return;
        }

        await ConsumptionMilestones.Lock(session, commitmentId, ct);
        var stream = await session.Events.FetchStreamAsync(commitmentId, token: ct);
        var state = Commitment.Fold(stream.Select(e => e.Data))!;
        var total = await ClaimedTotal(session, commitmentId, ct);
        var events = new List<object>();
        foreach (var mark in Due(state, total / committed.Amount))
        {
            if (await ConsumptionMilestones.Reaching(session, commitmentId, null, committed.Amount * mark / 100m, byHours: false, null, ct) is { } crossing)
            {
                events.Add(new DrawdownThresholdCrossed(commitmentId, mark, committed, new Money(total, committed.Currency),
                    crossing.Start.InUtc().Date, crossing.UsageId, now));
            }
        }

        await LedgerOutbox.Append(session, bus, commitmentId, state, stream[^1].Version, events);
    }

    private static async Task<decimal> ClaimedTotal(IDocumentSession session, string commitmentId, CancellationToken ct)
    {
        await using var command = ((NpgsqlConnection)session.Connection!).CreateCommand();
        command.CommandText = $"""
            select coalesce(sum(amount), 0) from {session.DocumentStore.Options.DatabaseSchemaName}.{Configuration.ClaimsTable}
            where commitment_id = @commitment and not voided
            """;
        command.Parameters.Add(new NpgsqlParameter("commitment", commitmentId));
        return (decimal)(await command.ExecuteScalarAsync(ct))!;
    }
}
