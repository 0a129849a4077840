using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Host.Integration;
using Marten;
using Wolverine;
using Npgsql;

namespace ComputeLedger.Host.Usage.Ingesting;

/// <summary>
/// Detects consumption milestones inside the ingest transaction. The commitment's stream row is locked first, so
/// concurrent batches decide one after the other and the milestone is achieved exactly once. The crossing record is
/// the one at which cumulative consumption, in valid-time order, reaches the threshold; its window start is the
/// business date, so late usage dates the milestone correctly.
/// </summary>
public static class ConsumptionMilestones
{
    public const string Detector = "ledger";

    public static async Task Detect(IDocumentSession session, IMessageBus bus, IEnumerable<string> commitmentIds, Instant now, CancellationToken ct)
    {
        foreach (var id in commitmentIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            await DecideLocked(session, bus, id, state => Pending(state).Count > 0, state => Crossed(session, state, now, ct), ct);
        }
    }

    /// <summary>
    /// After a void or correction, under one lock: an achieved consumption milestone whose consumption is now under its
    /// threshold gets one MilestoneThresholdReverted (it stays achieved; a dip is recorded once), and a pending one that
    /// the correction pushed over its threshold is achieved.
    /// </summary>
    public static Task Recheck(IDocumentSession session, IMessageBus bus, string commitmentId, string usageId, Instant now, CancellationToken ct) =>
        DecideLocked(session, bus, commitmentId, state => Achieved(state).Count > 0 || Pending(state).Count > 0, async state =>
        {
            var events = new List<object>();
            foreach (var milestone in Achieved(state))
            {
                var consumed = await UsageClaims.Consumed(session, state.Id, milestone.Chips, milestone.Threshold!.ChipHours is not null, ct);
                if (consumed < (milestone.Threshold!.ChipHours ?? milestone.Threshold.Spend!.Value.Amount))
                {
                    events.Add(new MilestoneThresholdReverted(state.Id, milestone.MilestoneId, state.AchievedMilestones[milestone.MilestoneId], consumed, usageId, now));
                }
            }

            events.AddRange(await Crossed(session, state, now, ct));
            return events;
        }, ct);

    /// <summary>MilestoneAchieved for every pending consumption milestone whose threshold the stored usage reaches.</summary>
    private static async Task<List<object>> Crossed(IDocumentSession session, Commitment state, Instant now, CancellationToken ct)
    {
        var events = new List<object>();
        foreach (var milestone in Pending(state))
        {
            if (await Crossing(session, state.Id, milestone, ByDeadline(milestone), ct) is { } crossing)
            {
                var threshold = milestone.Threshold!.Spend?.ToString() ?? $"{milestone.Threshold.ChipHours} chip-hours";
                events.Add(new MilestoneAchieved(state.Id, milestone.MilestoneId, crossing.Start.InUtc().Date,
                    $"cumulative consumption reached {threshold} with usage '{crossing.UsageId}'", now, Detector));
            }
        }

        return events;
    }

    /// <summary>
    /// The one way the ledger's own detectors write to a commitment: a cheap read first, and only when
    /// <paramref name="due"/> finds work, the commitment's stream row is locked and the stream read again (a transaction
    /// that held the lock before may have decided it already). The lock serializes detectors of one commitment until
    /// the caller's transaction ends, so each fact is recorded exactly once; the events go out with their integration events.
    /// </summary>
    internal static async Task DecideLocked(IDocumentSession session, IMessageBus bus, string commitmentId, Func<Commitment?, bool> due,
        Func<Commitment, Task<List<object>>> decide, CancellationToken ct)
    {
        if (!due(Commitment.Fold((await session.Events.FetchStreamAsync(commitmentId, token: ct)).Select(e => e.Data))))
        {
            return;
        }

        await using (var command = ((NpgsqlConnection)session.Connection!).CreateCommand())
        {
            command.CommandText = $"select 1 from {session.DocumentStore.Options.Events.DatabaseSchemaName}.mt_streams where id = @id for update";
            command.Parameters.Add(new NpgsqlParameter("id", commitmentId));
            await command.ExecuteScalarAsync(ct);
        }

        var stream = await session.Events.FetchStreamAsync(commitmentId, token: ct);
        var state = Commitment.Fold(stream.Select(e => e.Data));
        if (state is not null && due(state))
        {
            await LedgerOutbox.Append(session, bus, commitmentId, state, stream[^1].Version, await decide(state));
        }
    }

    private static List<MilestoneDefinition> Achieved(Commitment? state) => state is null
        ? []
        : state.Terms.Milestones.Where(m => m.Kind == MilestoneKind.Consumption && m.Threshold is not null
                                            && state.AchievedMilestones.ContainsKey(m.MilestoneId) && !state.ThresholdReverted.Contains(m.MilestoneId)).ToList();

    private static List<MilestoneDefinition> Pending(Commitment? state) => state is { Status: CommitmentStatus.Signed }
        ? state.Terms.Milestones.Where(m => m.Kind == MilestoneKind.Consumption && m.Threshold is not null
                                            && !state.AchievedMilestones.ContainsKey(m.MilestoneId) && !state.MissedMilestones.Contains(m.MilestoneId)).ToList()
        : [];

    /// <summary>Only usage whose window starts by the end of the deadline day counts toward a milestone with a deadline.</summary>
    private static Instant? ByDeadline(MilestoneDefinition milestone) =>
        milestone.Deadline?.PlusDays(1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();

    /// <summary>
    /// For every pending consumption milestone whose deadline day is over: achieve it if usage recorded since crossed the
    /// threshold by the deadline, otherwise record it missed. Runs in the caller's transaction, under the commitment lock.
    /// </summary>
    public static Task CheckDeadlines(IDocumentSession session, IMessageBus bus, string commitmentId, Instant now, CancellationToken ct)
    {
        List<MilestoneDefinition> Due(Commitment? state) => Pending(state).Where(m => m.Deadline is { } d && d < now.InUtc().Date).ToList();

        return DecideLocked(session, bus, commitmentId, state => Due(state).Count > 0, async state =>
        {
            var events = new List<object>();
            foreach (var milestone in Due(state))
            {
                if (await Crossing(session, commitmentId, milestone, ByDeadline(milestone), ct) is { } crossing)
                {
                    events.Add(new MilestoneAchieved(commitmentId, milestone.MilestoneId, crossing.Start.InUtc().Date,
                        $"cumulative consumption reached its threshold by the deadline with usage '{crossing.UsageId}'", now, Detector));
                }
                else
                {
                    events.Add(new MilestoneMissed(commitmentId, milestone.MilestoneId, milestone.Deadline!.Value,
                        await UsageClaims.Consumed(session, commitmentId, milestone.Chips, milestone.Threshold!.ChipHours is not null, ct), now));
                }
            }

            return events;
        }, ct);
    }

    private static Task<(string UsageId, Instant Start)?> Crossing(IDocumentSession session, string commitmentId, MilestoneDefinition milestone,
        Instant? startsBefore, CancellationToken ct) =>
        UsageClaims.Reaching(session, commitmentId, milestone.Chips, milestone.Threshold!.ChipHours ?? milestone.Threshold.Spend!.Value.Amount,
            milestone.Threshold.ChipHours is not null, startsBefore, ct);
}
