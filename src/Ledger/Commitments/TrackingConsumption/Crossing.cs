namespace ComputeLedger.Ledger.Commitments.TrackingConsumption;

/// <summary>
/// The usage record at which a commitment's cumulative consumption, summed in valid-time order (window start, then usage
/// id), first reached a threshold. Its window start dates what the threshold decides, so late usage dates it right.
/// </summary>
public sealed record Crossing(string UsageId, Instant Start);

/// <summary>
/// What the ledger sums of a commitment's stored usage (voids excluded) to judge one threshold: money, or chip-hours when
/// <see cref="ByHours"/>, over <see cref="Chips"/> (every chip when null). A crossing counts only usage whose window starts
/// before <see cref="StartsBefore"/> (any when null); the running total does not.
/// </summary>
public sealed record ConsumptionMeasure(IReadOnlyList<string>? Chips, bool ByHours, decimal Threshold, Instant? StartsBefore);
