using ComputeLedger.Ledger.Usage;

namespace ComputeLedger.Projections.Usage;

/// <summary>
/// Which usage events the views may count. Only figures inside the ledger's input limits (|amount| ≤ 10^15, |chip-hours|
/// ≤ 10^9, tokens 0 to 10^15) can be summed without overflow however many records there are. A record beyond them (one
/// stored before the edge enforced the limits) is refused, and the daemon dead-letters it; a void of such figures takes
/// back nothing, since nothing was counted. So voiding a poisoned record and rebuilding gives true views, whatever order
/// the events came in.
/// </summary>
public static class Countable
{
    public enum Verdict
    {
        Count,
        Ignore,
        Refuse,
    }

    public static Verdict Of(object @event) => @event switch
    {
        ChipHoursConsumed c => Within(c.ChipHours, c.Amount.Amount, c.Tokens) ? Verdict.Count : Verdict.Refuse,
        // A batch counts whole or not at all, as the one event it is (the API never writes a record beyond the limits).
        // Every view asks about the same loaded event, so its verdict is worked out once (per event, not per record per view).
        UsageRecorded b => Batches.GetValue(b, static batch => new BatchVerdict(batch.Records.All(r => Within(r.ChipHours, r.Amount, r.Tokens)) ? Verdict.Count : Verdict.Refuse)).Verdict,
        UsageVoided v => Within(v.Voided) ? Verdict.Count : Verdict.Ignore,
        UsageCorrected c => Within(c.Before) && Within(c.After) ? Verdict.Count : Verdict.Refuse,
        _ => Verdict.Count,
    };

    /// <summary>For the daemon's folds: a refused event throws, so the daemon records it as a dead letter and goes on.</summary>
    public static object Require(object @event) => Of(@event) == Verdict.Refuse
        ? throw new UncountableUsageException($"Usage record '{UsageIdOf(@event)}' has figures beyond the ledger's limits "
            + $"(amount at most {Limits.MaxMoney:0} in magnitude, chip-hours at most {Limits.MaxChipHours:0}, tokens 0 to {Limits.MaxTokens}); it is not counted in any view. "
            + "Void it (POST /api/usage/{usageId}/void) to settle its claim.")
        : @event;

    public static string? UsageIdOf(object @event) => @event switch
    {
        ChipHoursConsumed c => c.UsageId,
        UsageRecorded b => b.Records.FirstOrDefault(r => !Within(r.ChipHours, r.Amount, r.Tokens))?.UsageId,
        UsageVoided v => v.UsageId,
        UsageCorrected c => c.UsageId,
        _ => null,
    };

    private sealed record BatchVerdict(Verdict Verdict);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<UsageRecorded, BatchVerdict> Batches = new();

    private static bool Within(UsageFigures f) => Within(f.ChipHours, f.Amount.Amount, f.Tokens);

    private static bool Within(decimal chipHours, decimal amount, long? tokens) =>
        Math.Abs(chipHours) <= Limits.MaxChipHours && Math.Abs(amount) <= Limits.MaxMoney && tokens is null or (>= 0 and <= Limits.MaxTokens);
}

/// <summary>A usage event the views refuse to count (see <see cref="Countable"/>).</summary>
public sealed class UncountableUsageException : Exception
{
    public UncountableUsageException()
    {
    }

    public UncountableUsageException(string message)
        : base(message)
    {
    }

    public UncountableUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
