using ComputeLedger.Host.Usage.Ingesting;

namespace ComputeLedger.Host.Seed;

/// <summary>
/// A deterministic, ILLUSTRATIVE year (2025) of daily chip-hour usage for the signed demo deals: volumes ramp up
/// through the year with ±10% day-to-day noise; inference chips report tokens at roughly the article's cost per 1M tokens.
/// The same ids and numbers come out on every run, so reloading it only produces duplicates.
/// </summary>
public static class DemoUsage
{
    private sealed record Line(string CommitmentId, string Provider, string Chip, string Region, decimal ChipHoursPerDay, decimal? TokensPerChipHour);

    private static readonly Line[] Lines =
    [
        new("amazon-anthropic", "AWS", "Trainium2", "us-east-1", 120_000m, null),
        new("amazon-anthropic", "AWS", "Trainium2", "us-west-2", 60_000m, null),
        new("amazon-anthropic", "AWS", "Inferentia2", "us-east-1", 40_000m, 1_625_000m),
        new("microsoft-openai", "Microsoft Azure", "H100", "eastus", 90_000m, null),
        new("microsoft-openai", "Microsoft Azure", "L40S", "eastus", 30_000m, 2_000_000m),
        new("google-anthropic", "Google Cloud", "TPU-v5p", "us-central1", 25_000m, null),
        new("google-anthropic", "Google Cloud", "TPU-v5e", "us-central1", 20_000m, 1_333_000m),
        new("oracle-openai", "Oracle OCI", "H100", "us-ashburn-1", 50_000m, null),
    ];

    public static IEnumerable<UsageRecordBody> Year2025()
    {
        var first = new LocalDate(2025, 1, 1);
        for (var day = 0; day < 365; day++)
        {
            var date = first.PlusDays(day);
            var ramp = 0.6m + (0.8m * day / 364m);
            foreach (var line in Lines)
            {
                var usageId = $"demo-{line.CommitmentId}-{line.Chip}-{line.Region}-{date:yyyy-MM-dd}".ToLowerInvariant();
                var hours = decimal.Round(line.ChipHoursPerDay * ramp * Noise(usageId), 1);
                var start = date.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
                long? tokens = line.TokensPerChipHour is { } perHour ? (long)decimal.Round(hours * perHour * Noise(usageId + "/t")) : null;
                yield return new UsageRecordBody(usageId, line.CommitmentId, line.Provider, line.Chip, line.Region, hours,
                    start, start.Plus(Duration.FromDays(1)), tokens);
            }
        }
    }

    /// <summary>A factor in [0.9, 1.1] that depends only on the text (FNV-1a), not on a random generator's version.</summary>
    private static decimal Noise(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return 0.9m + (hash % 20001) / 100_000m;
    }
}
