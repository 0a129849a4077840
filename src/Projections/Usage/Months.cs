namespace ComputeLedger.Projections.Usage;

/// <summary>Months are calendar months in UTC, written yyyy-MM; usage counts in the month its window starts.</summary>
public static class Months
{
    /// <summary>Months since year 0, so ranges are integer comparisons a database index can serve.</summary>
    public static int Index(YearMonth month) => (month.Year * 12) + month.Month - 1;

    public static int IndexOf(Instant instant) => Index(instant.InUtc().Date.ToYearMonth());

    public static string Of(Instant instant)
    {
        var date = instant.InUtc().Date;
        return $"{date.Year:0000}-{date.Month:00}";
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

    public static string Format(YearMonth month) => $"{month.Year:0000}-{month.Month:00}";
}
