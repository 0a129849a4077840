using ComputeLedger.Projections.Usage;

namespace ComputeLedger.Host.Usage.Reading;

/// <summary>An inclusive range of yyyy-MM months; either end may be open.</summary>
public sealed record MonthRange(string From, string To, bool Explicit)
{
    private static readonly YearMonth Earliest = new(2000, 1);
    private static readonly YearMonth Latest = new(2100, 12);

    public static MonthRange? Parse(string? from, string? to)
    {
        var f = Earliest;
        var t = Latest;
        if ((!string.IsNullOrEmpty(from) && !Months.TryParse(from, out f)) || (!string.IsNullOrEmpty(to) && !Months.TryParse(to, out t)) || f > t)
        {
            return null;
        }

        return new MonthRange(Months.Format(f), Months.Format(t), !string.IsNullOrEmpty(from) && !string.IsNullOrEmpty(to));
    }

    public int FromIndex => Months.Index(Months.Parse(From));

    public int ToIndex => Months.Index(Months.Parse(To));

    public IEnumerable<YearMonth> Each()
    {
        var last = Months.Parse(To);
        for (var m = Months.Parse(From); m <= last; m = m.PlusMonths(1))
        {
            yield return m;
        }
    }

    /// <summary>The field to blame for a range <see cref="Parse"/> refused, and what to write instead.</summary>
    public static (string Field, string Message) Error(string? from) =>
        (string.IsNullOrEmpty(from) || Months.TryParse(from, out _) ? "to" : "from",
            "from and to are months written yyyy-MM between 2000-01 and 2100-12 (e.g. 2025-01), with from <= to.");
}
