using NodaTime.Text;

namespace ComputeLedger.Host.Infrastructure;

/// <summary>
/// The two time axes of a read: <c>asOf</c> keeps facts whose business (valid) time is before the cut-off, <c>knownAt</c>
/// keeps events the ledger had recorded by it. A date means "before the end of that day, UTC"; an instant means "at or
/// before it". Both bounds are kept exclusive internally.
/// </summary>
public sealed record TimeAxes(Instant? ValidBefore, Instant? KnownBefore)
{
    public static readonly TimeAxes Now = new(null, null);

    public bool IsNow => ValidBefore is null && KnownBefore is null;

    /// <summary>The last business date that counts, for facts dated by day.</summary>
    public LocalDate? ValidThrough => ValidBefore?.Minus(Duration.Epsilon).InUtc().Date;

    public static (TimeAxes? Axes, IResult? Problem) Parse(string? asOf, string? knownAt)
    {
        var errors = new List<(string, string)>();
        var valid = Bound(asOf, "asOf", errors);
        var known = Bound(knownAt, "knownAt", errors);
        return errors.Count > 0 ? (null, Problems.Invalid(errors)) : (new TimeAxes(valid, known), null);
    }

    private static Instant? Bound(string? text, string field, List<(string, string)> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        Instant? bound = null;
        if (LocalDatePattern.Iso.Parse(text) is { Success: true } date)
        {
            bound = Limits.Date(date.Value) is null ? date.Value.PlusDays(1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant() : Limits.EndInstant.Plus(Duration.Epsilon);
        }
        else if (InstantPattern.ExtendedIso.Parse(text) is { Success: true } instant)
        {
            bound = instant.Value.Plus(Duration.Epsilon);
        }
        else if (OffsetDateTimePattern.ExtendedIso.Parse(text) is { Success: true } withOffset)
        {
            bound = withOffset.Value.ToInstant().Plus(Duration.Epsilon);
        }

        if (bound is null)
        {
            errors.Add((field, $"{field} must be a date (2025-12-31) or an ISO-8601 instant (2025-12-31T12:00:00Z or with an offset)."));
        }
        else if (bound <= Limits.FirstInstant || bound > Limits.EndInstant)
        {
            // Outside the ledger's calendar every answer would be empty or "everything", and date arithmetic near the
            // ends of what NodaTime can hold overflows: refuse it plainly instead.
            errors.Add((field, $"{field} must be between 2000-01-01 and 2100-12-31 (a date, or an instant in that range)."));
            bound = null;
        }

        return bound;
    }
}
