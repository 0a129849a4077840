namespace ComputeLedger.Projections.Usage;

/// <summary>Months are calendar months in UTC, written yyyy-MM; usage counts in the month its window starts.</summary>
public static class Months
{
    /// <summary>Months since year 0, so ranges are integer comparisons a database index can serve.</summary>
    public static int Index(YearMonth month) => Index(month.Year, month.Month);

    private static int Index(int year, int month) => (year * 12) + month - 1;

    /// <summary>
    /// The month index of an instant's UTC date. Every usage record is counted in several views, so this is integer
    /// arithmetic on the instant's day number (the proleptic Gregorian calendar, as NodaTime's ISO calendar), not a
    /// calendar conversion per call; a test holds it to <c>instant.InUtc().Date</c> over the whole range.
    /// </summary>
    public static int IndexOf(Instant instant)
    {
        // The ledger's days (and a margin) are looked up: a record is counted in several views, each asking its month.
        var slot = UsageBucket.DayOf(instant) - FirstTabledDay;
        if (slot >= 0 && slot < MonthIndexByDay.Length)
        {
            return MonthIndexByDay[slot];
        }

        var (year, month) = YearMonthOf(instant);
        return Index(year, month);
    }

    /// <summary>1900-01-01 as days since 1970-01-01.</summary>
    private const int FirstTabledDay = -25_567;

    /// <summary>The month index of every day of 1900 to 2199 (~110,000 days, 430 KB), computed once.</summary>
    private static readonly int[] MonthIndexByDay = Enumerable.Range(0, 109_572)
        .Select(d => YearMonthOf(Instant.FromUnixTimeTicks((FirstTabledDay + (long)d) * NodaConstants.TicksPerDay)))
        .Select(m => Index(m.Year, m.Month)).ToArray();

    /// <summary>The month as yyyy-MM; the months of 1900 to 2199 are formatted once and kept.</summary>
    public static string Of(Instant instant)
    {
        var (year, month) = YearMonthOf(instant);
        var slot = Index(year, month) - Index(FirstCachedYear, 1);
        if (slot < 0 || slot >= Cached.Length)
        {
            return Format(year, month);
        }

        return Cached[slot] ??= Format(year, month);
    }

    private const int FirstCachedYear = 1900;

    private static readonly string?[] Cached = new string?[300 * 12];

    private static string Format(int year, int month) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{year:0000}-{month:00}");

    /// <summary>Civil year and month of the instant's UTC day (days-to-civil on 400-year eras, after H. Hinnant).</summary>
    private static (int Year, int Month) YearMonthOf(Instant instant)
    {
        long days = UsageBucket.DayOf(instant) + 719_468L;
        var era = (days >= 0 ? days : days - 146_096) / 146_097;
        var dayOfEra = days - (era * 146_097);
        var yearOfEra = (dayOfEra - (dayOfEra / 1_460) + (dayOfEra / 36_524) - (dayOfEra / 146_096)) / 365;
        var dayOfYear = dayOfEra - ((365 * yearOfEra) + (yearOfEra / 4) - (yearOfEra / 100));
        var shifted = ((5 * dayOfYear) + 2) / 153;
        var month = (int)(shifted < 10 ? shifted + 3 : shifted - 9);
        var year = (int)(yearOfEra + (era * 400)) + (month <= 2 ? 1 : 0);
        return (year, month);
    }

    /// <summary>A yyyy-MM month inside the ledger's calendar (2000-01 to 2100-12).</summary>
    public static bool TryParse(string? text, out YearMonth month)
    {
        month = default;
        if (text is not { Length: 7 } || text[4] != '-'
            || !int.TryParse(text.AsSpan(0, 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var y)
            || !int.TryParse(text.AsSpan(5, 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var m)
            || m is < 1 or > 12 || y < Limits.FirstDate.Year || y > Limits.LastDate.Year)
        {
            return false;
        }

        month = new YearMonth(y, m);
        return true;
    }

    /// <summary>For keys the ledger wrote itself; a malformed one is a bug, not bad input.</summary>
    public static YearMonth Parse(string text) =>
        TryParse(text, out var month) ? month : throw new FormatException($"'{text}' is not a yyyy-MM month.");

    public static string Format(YearMonth month) => Format(month.Year, month.Month);
}
