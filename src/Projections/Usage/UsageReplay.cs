using ComputeLedger.Ledger.Usage;

namespace ComputeLedger.Projections.Usage;

/// <summary>The usage read models as a replay produces them.</summary>
public sealed record UsageViews(
    IReadOnlyDictionary<string, ChipSpend> Spend,
    IReadOnlyDictionary<string, ProviderRevenue> Revenue,
    IReadOnlyDictionary<string, Drawdown> Drawdowns,
    IReadOnlyDictionary<string, (decimal Amount, long Records)> AcceptedByCurrency);

/// <summary>
/// Chip spend, provider revenue and drawdown folded from scratch over usage events already filtered on known time,
/// keeping only facts whose valid time (a record's window start; for a void or correction, that of the record it
/// changes) is before <c>validBefore</c>. The fold steps are the projections' own.
/// </summary>
public static class UsageReplay
{
    /// <summary>The valid time of a single record's event (a batch is read record by record, <see cref="UsageEvents.Records"/>).</summary>
    public static Instant ValidTime(object @event) => @event switch
    {
        ChipHoursConsumed e => e.Start,
        UsageVoided e => e.Voided.Start,
        UsageCorrected e => e.Before.Start,
        _ => Instant.MinValue,
    };

    public static UsageViews Fold(IEnumerable<object> events, Instant? validBefore)
    {
        var spend = new Dictionary<string, ChipSpend>(StringComparer.Ordinal);
        var revenue = new Dictionary<string, ProviderRevenue>(StringComparer.Ordinal);
        var drawdowns = new Dictionary<string, Drawdown>(StringComparer.Ordinal);
        var accepted = new Dictionary<string, (decimal Amount, long Records)>(StringComparer.Ordinal);

        // A batch is judged whole, as the daemon judges it, then read record by record.
        foreach (var e in events.Where(e => Countable.Of(e) == Countable.Verdict.Count).SelectMany(UsageEvents.Records))
        {
            if (e is not (ChipHoursConsumed or UsageVoided or UsageCorrected) || Countable.Of(e) != Countable.Verdict.Count || (validBefore is { } cutoff && ValidTime(e) >= cutoff))
            {
                continue;
            }

            var (provider, chip, commitment, ids) = e switch
            {
                ChipHoursConsumed c => (c.Provider, c.Chip, c.CommitmentId, new[] { c.Start }),
                UsageVoided v => (v.Provider, v.Chip, v.CommitmentId, new[] { v.Voided.Start }),
                UsageCorrected c => (c.Provider, c.Chip, c.CommitmentId, new[] { c.Before.Start, c.After.Start }),
                _ => throw new InvalidOperationException(),
            };

            foreach (var id in ids.Select(s => ChipSpend.KeyOf(provider, chip, s)).Distinct())
            {
                Put(spend, id, ChipSpend.Next(spend.GetValueOrDefault(id), id, e));
            }

            foreach (var id in ids.Select(s => ProviderRevenue.KeyOf(provider, s)).Distinct())
            {
                Put(revenue, id, ProviderRevenue.Next(revenue.GetValueOrDefault(id), id, e));
            }

            drawdowns[commitment] = Drawdown.Apply(drawdowns.GetValueOrDefault(commitment), e, commitment);

            var (delta, count) = e switch
            {
                ChipHoursConsumed c => (c.Amount, 1),
                UsageVoided v => (v.Voided.Amount.Times(-1), -1),
                UsageCorrected c => (c.After.Amount.Minus(c.Before.Amount), 0),
                _ => throw new InvalidOperationException(),
            };
            var (sum, n) = accepted.GetValueOrDefault(delta.Currency);
            accepted[delta.Currency] = (sum + delta.Amount, n + count);
        }

        return new UsageViews(spend, revenue, drawdowns, accepted);
    }

    private static void Put<T>(Dictionary<string, T> rows, string id, T? row)
        where T : class
    {
        if (row is not null)
        {
            rows[id] = row;
        }
    }
}

/// <summary>The usage views summed from bitemporal buckets (already filtered on both axes).</summary>
public static class UsageBuckets
{
    public static UsageViews Sum(IEnumerable<UsageBucket> buckets)
    {
        var spend = new Dictionary<string, ChipSpend>(StringComparer.Ordinal);
        var revenue = new Dictionary<string, ProviderRevenue>(StringComparer.Ordinal);
        var drawdowns = new Dictionary<string, Drawdown>(StringComparer.Ordinal);
        var accepted = new Dictionary<string, (decimal Amount, long Records)>(StringComparer.Ordinal);

        foreach (var b in buckets)
        {
            var amount = new Money(b.Amount, b.Currency);
            var spendKey = $"{b.Provider}|{b.Chip}|{b.Month}";
            var s = spend.TryGetValue(spendKey, out var existingSpend) ? existingSpend : spend[spendKey] = new ChipSpend
            {
                Id = spendKey, Provider = b.Provider, Chip = b.Chip, Month = b.Month, MonthIndex = b.MonthIndex,
                Spend = Money.Zero(b.Currency), TokenizedSpend = Money.Zero(b.Currency),
            };
            s.ChipHours += b.ChipHours;
            s.Spend = s.Spend.Plus(amount);
            s.Tokens += b.Tokens;
            s.TokenizedSpend = s.TokenizedSpend.Plus(new Money(b.TokenizedAmount, b.Currency));
            s.Records += b.Records;

            var revenueKey = $"{b.Provider}|{b.Month}";
            var r = revenue.TryGetValue(revenueKey, out var existingRevenue) ? existingRevenue : revenue[revenueKey] = new ProviderRevenue
            {
                Id = revenueKey, Provider = b.Provider, Month = b.Month, MonthIndex = b.MonthIndex, Revenue = Money.Zero(b.Currency),
            };
            r.Revenue = r.Revenue.Plus(amount);
            r.Records += b.Records;

            var d = drawdowns.TryGetValue(b.CommitmentId, out var existingDrawdown) ? existingDrawdown : drawdowns[b.CommitmentId] = new Drawdown
            {
                Id = b.CommitmentId, Provider = b.Provider,
            };
            d.Consumed = d.Consumed is { } c ? c.Plus(amount) : amount;
            d.Records += b.Records;
            var chip = d.ByChip.TryGetValue(b.Chip, out var existingChip) ? existingChip : d.ByChip[b.Chip] = new ChipDrawdown { Consumed = Money.Zero(b.Currency) };
            chip.ChipHours += b.ChipHours;
            chip.Consumed = chip.Consumed.Plus(amount);
            d.ByMonth[b.Month] = d.ByMonth.TryGetValue(b.Month, out var m) ? m.Plus(amount) : amount;

            var (sum, n) = accepted.GetValueOrDefault(b.Currency);
            accepted[b.Currency] = (sum + b.Amount, n + b.Records);
        }

        return new UsageViews(spend, revenue, drawdowns, accepted);
    }
}
