using ComputeLedger.Host.Usage.Ingesting;

namespace ComputeLedger.Host.Seed;

public sealed record DemoUsageLine(string CommitmentId, string Provider, string Chip, string Region, decimal ChipHoursPerDay, decimal? TokensPerChipHour);

public sealed record DemoVoid(string UsageId, LocalDate On, string Reason);

public sealed record DemoCorrection(string UsageId, LocalDate On, decimal ChipHoursFactor, string Reason);

public sealed record DemoUsageData(
    int Year, int PreviousYearFromMonth, Dictionary<string, decimal> GrowthYoY, List<DemoUsageLine> Lines, List<DemoVoid> Voids, List<DemoCorrection> Corrections);

/// <summary>A usage record of the demo and the instant the demo's history records it.</summary>
public sealed record DemoRecord(UsageRecordBody Body, Instant RecordedAt);

/// <summary>
/// The demo's ILLUSTRATIVE usage (Seed/demo-usage.json): a year of daily records per line, and monthly records for the
/// second half of the year before, sized so each provider's revenue grows by the article's figure. Deterministic: the same
/// ids, numbers and recording instants on every run.
/// </summary>
public static class DemoUsage
{
    public static IReadOnlyList<DemoRecord> Records(DemoUsageData data)
    {
        var year = new List<DemoRecord>();
        var first = new LocalDate(data.Year, 1, 1);
        var days = first.PlusYears(1).PlusDays(-1).DayOfYear;
        for (var day = 0; day < days; day++)
        {
            var date = first.PlusDays(day);
            var ramp = 0.6m + (0.8m * day / (days - 1));
            foreach (var line in data.Lines)
            {
                var usageId = Id(line, date.ToString("yyyy-MM-dd", null));
                var hours = decimal.Round(line.ChipHoursPerDay * ramp * Noise(usageId), 1);
                var start = date.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
                year.Add(new DemoRecord(Body(line, usageId, hours, start, start.Plus(Duration.FromDays(1)), Noise(usageId + "/t")), RecordedAt(usageId, date.PlusDays(1))));
            }
        }

        // The year before: one record per line and month, the line's year divided by (1 + the provider's growth).
        var before = new List<DemoRecord>();
        var months = 13 - data.PreviousYearFromMonth;
        foreach (var line in data.Lines)
        {
            var total = year.Where(r => r.Body.UsageId!.StartsWith(Id(line, ""), StringComparison.Ordinal)).Sum(r => r.Body.ChipHours!.Value);
            var perMonth = decimal.Round(total / (1m + data.GrowthYoY.GetValueOrDefault(line.Provider)) / months, 1);
            for (var m = data.PreviousYearFromMonth; m <= 12; m++)
            {
                var month = new LocalDate(data.Year - 1, m, 1);
                var usageId = Id(line, month.ToString("yyyy-MM", null));
                var start = month.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
                var end = month.PlusMonths(1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
                before.Add(new DemoRecord(Body(line, usageId, perMonth, start, end, 1m), RecordedAt(usageId, month.PlusMonths(1).PlusDays(1))));
            }
        }

        return [.. before, .. year];
    }

    public static string Id(DemoUsageLine line, string period) => $"demo-{line.CommitmentId}-{line.Chip}-{line.Region}-{period}".ToLowerInvariant();

    private static UsageRecordBody Body(DemoUsageLine line, string usageId, decimal hours, Instant start, Instant end, decimal tokenNoise) =>
        new(usageId, line.CommitmentId, line.Provider, line.Chip, line.Region, hours, start, end,
            line.TokensPerChipHour is { } perHour ? (long)decimal.Round(hours * perHour * tokenNoise) : null);

    /// <summary>06:00 UTC, one to three days after <paramref name="earliest"/>'s day before; one record in thirty two to five weeks late.</summary>
    private static Instant RecordedAt(string usageId, LocalDate earliest)
    {
        var hash = Hash(usageId + "/recorded");
        var delay = hash % 30 == 0 ? 14 + (int)(hash / 30 % 22) : (int)(hash / 30 % 3);
        return earliest.PlusDays(delay).At(new LocalTime(6, 0)).InUtc().ToInstant();
    }

    /// <summary>A factor in [0.9, 1.1] that depends only on the text (FNV-1a), not on a random generator's version.</summary>
    private static decimal Noise(string text) => 0.9m + (Hash(text) % 20001) / 100_000m;

    private static uint Hash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return hash;
    }
}
