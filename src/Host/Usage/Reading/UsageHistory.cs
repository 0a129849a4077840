using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
using Marten;
using Marten.Events;

namespace ComputeLedger.Host.Usage.Reading;

/// <summary>
/// The usage views on both time axes. "Now" reads the async read models; asOf/knownAt replays the usage events recorded
/// before knownAt through the projections' own fold steps. The replay reads the whole usage history, so its cost grows
/// with it; the read models do not.
/// </summary>
public static class UsageHistory
{
    public static async Task<UsageViews> Views(IQuerySession session, TimeAxes axes, CancellationToken ct, ReplayProgress? progress = null)
    {
        if (axes.IsNow)
        {
            return new UsageViews(
                (await session.Query<ChipSpend>().ToListAsync(ct)).ToDictionary(r => r.Id),
                (await session.Query<ProviderRevenue>().ToListAsync(ct)).ToDictionary(r => r.Id),
                (await session.Query<Drawdown>().ToListAsync(ct)).ToDictionary(r => r.Id),
                new Dictionary<string, (decimal, long)>());
        }

        var query = session.Events.QueryAllRawEvents()
            .Where(e => e.EventTypesAre(typeof(ChipHoursConsumed), typeof(UsageVoided), typeof(UsageCorrected)));
        if (axes.KnownBefore is { } known)
        {
            var cutoff = known.ToDateTimeOffset();
            query = query.Where(e => e.Timestamp < cutoff);
        }

        var events = new List<object>();
        await foreach (var e in query.OrderBy(e => e.Sequence).ToAsyncEnumerable(ct))
        {
            events.Add(e.Data);
            if (events.Count % 50_000 == 0)
            {
                progress?.Read(events.Count);
            }
        }

        progress?.Finished(events.Count);
        return UsageReplay.Fold(events, axes.ValidBefore);
    }
}
