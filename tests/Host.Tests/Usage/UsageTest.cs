using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>Arranges a signed AWS deal on Trainium2 and Inferentia2 and a provider rate card, through the API.</summary>
public abstract class UsageTest(LedgerFixture fixture) : LedgerTest(fixture)
{
    /// <summary>When the deal and rate card are recorded (the known time); the real now unless a test class says otherwise.</summary>
    protected virtual DateTimeOffset? ArrangedAt => null;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Fixture.Time.Pinned = ArrangedAt;
        await ArrangeDealAndRates(Admin);
        Fixture.Time.Pinned = null;
    }

    /// <summary>The deal and rate card, through the API of any host (the fault tests run hosts of their own).</summary>
    public static async Task ArrangeDealAndRates(HttpClient admin)
    {
        var deal = Deal();
        deal["computeCommitment"] = new
        {
            provider = "AWS",
            chips = new[] { "Trainium2", "Inferentia2" },
            committedSpend = Usd(1_000_000m),
            termStart = "2025-01-01",
            termEnd = "2027-01-01",
        };
        var created = await admin.PostJson("/api/commitments", deal);
        created.Code.ShouldBe(201, created.ToString());
        var rates = await admin.PostJson("/api/providers/AWS/rates", new
        {
            effectiveFrom = "2025-01-01",
            rates = new object[]
            {
                new { chip = "Trainium2", region = (string?)null, pricePerChipHour = Usd(4.00m) },
                new { chip = "Trainium2", region = "us-east-1", pricePerChipHour = Usd(3.50m) },
                new { chip = "Inferentia2", region = (string?)null, pricePerChipHour = Usd(1.25m) },
            },
        });
        rates.Code.ShouldBe(201, rates.ToString());
    }

    public static Dictionary<string, object?> Record(string usageId, decimal chipHours = 2m, string chip = "Trainium2",
        string? region = "us-east-1", string start = "2025-07-01T00:00:00Z", string end = "2025-07-01T01:00:00Z",
        string commitmentId = "amazon-anthropic", string provider = "AWS", long? tokens = null) => new()
    {
        ["usageId"] = usageId,
        ["commitmentId"] = commitmentId,
        ["provider"] = provider,
        ["chip"] = chip,
        ["region"] = region,
        ["chipHours"] = chipHours,
        ["start"] = start,
        ["end"] = end,
        ["tokens"] = tokens,
    };

    public static object Batch(params object[] records) => new { records };

    protected Task<Http.Reply> Post(params object[] records) => Ingest.PostJson("/api/usage", Batch(records));
}
