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
        var axes = Parse(asOf, knownAt, errors);
        return axes is null ? (null, Problems.Invalid(errors)) : (axes, null);
    }

    /// <summary>The axes, or null with what is wrong added to <paramref name="errors"/> (for callers that are not HTTP).</summary>
    public static TimeAxes? Parse(string? asOf, string? knownAt, List<(string Field, string Message)> errors)
    {
        var before = errors.Count;
        var valid = Bound(asOf, "asOf", errors);
        var known = Bound(knownAt, "knownAt", errors);
        return errors.Count > before ? null : new TimeAxes(valid, known);
    }

    /// <summary>One bound on its own (restatements' <c>knownFrom</c>/<c>knownTo</c>), named after its parameter.</summary>
    public static (Instant? Bound, IResult? Problem) ParseOne(string? text, string field)
    {
        var errors = new List<(string, string)>();
        var bound = Bound(text, field, errors);
        return errors.Count > 0 ? (null, Problems.Invalid(errors)) : (bound, null);
    }

    private static Instant? Bound(string? text, string field, List<(string, string)> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        // A date means "before the end of that day"; an instant "at or before it". Both become an exclusive bound.
        Instant? at = null;
        var wholeDay = false;
        if (LocalDatePattern.Iso.Parse(text) is { Success: true } date)
        {
            (at, wholeDay) = (date.Value.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant(), true);
        }
        else if (InstantPattern.ExtendedIso.Parse(text) is { Success: true } instant)
        {
            at = instant.Value;
        }
        else if (OffsetDateTimePattern.ExtendedIso.Parse(text) is { Success: true } withOffset)
        {
            // Converting a local time near the ends of NodaTime's calendar can overflow; such a year is out of range anyway.
            at = withOffset.Value.Year is > 1999 and < 2101 ? withOffset.Value.ToInstant() : Instant.MinValue;
        }

        if (at is not { } moment)
        {
            errors.Add((field, $"{field} must be a date (2025-12-31) or an ISO-8601 instant (2025-12-31T12:00:00Z or with an offset)."));
            return null;
        }

        if (Limits.InstantInRange(moment) is not null)
        {
            // Outside the ledger's calendar every answer would be empty or "everything", and date arithmetic near the
            // ends of what NodaTime can hold overflows: refuse it plainly instead.
            errors.Add((field, $"{field} must be between 2000-01-01 and 2100-12-31 (a date, or an instant in that range)."));
            return null;
        }

        return wholeDay ? moment.Plus(Duration.FromDays(1)) : moment.Plus(Duration.Epsilon);
    }
}
