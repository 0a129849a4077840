using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Ledger.Usage.Ingesting;

namespace ComputeLedger.Ledger.Usage.Correcting;

/// <summary>One usage record as it stands after its corrections; <see cref="Voided"/> once withdrawn.</summary>
public sealed record UsageRecord(string UsageId, string CommitmentId, string Provider, string Chip, string? Region, UsageFigures Current, bool Voided)
{
    public static UsageRecord? Fold(IEnumerable<object> events, string usageId)
    {
        UsageRecord? state = null;
        foreach (var e in events.SelectMany(UsageEvents.Records))
        {
            state = (state, e) switch
            {
                (null, ChipHoursConsumed c) when c.UsageId == usageId => new UsageRecord(c.UsageId, c.CommitmentId, c.Provider, c.Chip, c.Region,
                    new UsageFigures(c.ChipHours, c.Start, c.End, c.Tokens, c.PricePerChipHour, c.Amount, c.RateSource), false),
                ({ } s, UsageVoided v) when v.UsageId == usageId => s with { Voided = true },
                ({ } s, UsageCorrected c) when c.UsageId == usageId => s with { Current = c.After },
                _ => state,
            };
        }

        return state;
    }
}

public sealed record VoidUsage(string UsageId, string Reason, string RequestedBy);

/// <summary>New hours and/or a new window; what is not given keeps its current value.</summary>
public sealed record CorrectUsage(string UsageId, decimal? ChipHours, Instant? Start, Instant? End, long? Tokens, string? Reason, string RequestedBy);

public static class UsageCorrectionDecider
{
    public static IReadOnlyList<object> Decide(VoidUsage command, UsageRecord record, Instant now) =>
        record.Voided
            ? []
            : [new UsageVoided(record.UsageId, record.CommitmentId, record.Provider, record.Chip, record.Region, record.Current,
                command.Reason, now, command.RequestedBy)];

    /// <summary>
    /// Re-checks the corrected window with the ingestion rules and re-prices it with <paramref name="price"/>
    /// (the rate in force at the corrected start). A correction that changes nothing records nothing.
    /// </summary>
    public static IReadOnlyList<object> Decide(CorrectUsage command, UsageRecord record, Func<Instant, AppliedRate?> price, Instant now)
    {
        if (record.Voided)
        {
            throw RuleViolation.Conflict($"Usage '{record.UsageId}' was voided; a voided record cannot be corrected.");
        }

        var hours = command.ChipHours ?? record.Current.ChipHours;
        var start = command.Start ?? record.Current.Start;
        var end = command.End ?? record.Current.End;
        var tokens = command.Tokens ?? record.Current.Tokens;
        if (Limits.ChipHours(hours) is { } badHours)
        {
            throw RuleViolation.Invalid("chipHours", $"chipHours {badHours}");
        }

        if (Limits.InstantInRange(start) is { } badStart)
        {
            throw RuleViolation.Invalid("start", $"start {badStart}");
        }

        if (Limits.InstantInRange(end) is { } badEnd)
        {
            throw RuleViolation.Invalid("end", $"end {badEnd}");
        }

        if (tokens is { } t && Limits.Tokens(t) is { } badTokens)
        {
            throw RuleViolation.Invalid("tokens", $"tokens {badTokens}");
        }

        if (end <= start)
        {
            throw RuleViolation.Invalid("end", $"end {end} must be after start {start}.");
        }

        if (end - start > UsageRules.LongestWindow)
        {
            throw RuleViolation.Invalid("end", $"the window {start} to {end} is longer than 31 days.");
        }

        if (end > now + UsageRules.FutureTolerance)
        {
            throw RuleViolation.Invalid("end", $"end {end} is more than 5 minutes in the future (now is {now}).");
        }

        var rate = price(start) ?? throw RuleViolation.Invalid("start",
            $"no rate applies to chip '{record.Chip}' in region '{record.Region ?? "(none)"}' of provider '{record.Provider}' at {start}.");
        var amount = rate.PricePerChipHour.Times(hours).ToCents();
        if (Limits.Amount(amount.Amount, null) is { } tooMuch)
        {
            throw RuleViolation.Invalid("chipHours", $"the corrected amount ({hours} chip-hours at {rate.PricePerChipHour}) {tooMuch}");
        }

        var after = new UsageFigures(hours, start, end, tokens, rate.PricePerChipHour, amount, rate.Source);
        if (after == record.Current)
        {
            return [];
        }

        return [new UsageCorrected(record.UsageId, record.CommitmentId, record.Provider, record.Chip, record.Region, record.Current, after,
            command.Reason, now, command.RequestedBy)];
    }
}
