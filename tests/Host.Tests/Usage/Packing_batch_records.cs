using System.Text.Json;
using System.Text.Json.Nodes;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Usage;
using ComputeLedger.Ledger.Usage;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>The packed layout of a batch's records (pure: the store's JSON dialect, no database).</summary>
public class Packing_batch_records
{
    private static readonly JsonSerializerOptions Store = new(Json.Options) { Converters = { new RecordedUsageJson(), new PackedRecordsJson() } };

    private static UsageRecorded Batch(params RecordedUsage[] records) =>
        new("deal", "AWS", "USD", Instant.FromUtc(2025, 9, 1, 0, 0), [new AppliedPrice("provider:2025-01-01:any", 3.5m)], records);

    [Fact]
    public void Any_records_read_back_exactly_from_the_packed_string()
    {
        var random = new Random(11);
        var records = Enumerable.Range(0, 5_000).Select(i => new RecordedUsage(
            $"u-{i}:{random.Next()}.x_y", i % 3 == 0 ? "Trainium2" : "Inferentia2", i % 4 == 0 ? null : (i % 8 == 1 ? "us-east-1" : "eu-west-2"),
            new decimal(random.Next(), random.Next(0, 100), 0, false, (byte)random.Next(0, 12)),
            Instant.FromUnixTimeTicks(random.NextInt64(-100_000_000_000_000_000, 100_000_000_000_000_000)),
            i % 5 == 0 ? Instant.FromUtc(2025, 7, 1, 0, 0).PlusNanoseconds(random.Next(1, 99)) : Instant.FromUtc(2025, 7, 1, 1, 0),
            i % 2 == 0 ? null : random.NextInt64(0, 1_000_000_000_000_000), random.Next(0, 3),
            decimal.Round(new decimal(random.Next(), random.Next(0, 1000), 0, i % 7 == 0, 2), 2))).ToArray();

        var json = JsonSerializer.Serialize(Batch(records), Store);

        JsonNode.Parse(json)!["records"]!.GetValueKind().ShouldBe(JsonValueKind.String);
        var read = JsonSerializer.Deserialize<UsageRecorded>(json, Store)!;
        read.Records.ShouldBe(records);
        read.Records.Select(r => r.ChipHours.Scale).ShouldBe(records.Select(r => r.ChipHours.Scale));
    }

    [Fact]
    public void A_batch_with_a_field_that_could_hold_a_separator_is_stored_as_arrays()
    {
        var odd = new RecordedUsage("legacy;id,with separators", "H100", "us east", 1m, Instant.FromUtc(2025, 7, 1, 0, 0), Instant.FromUtc(2025, 7, 1, 1, 0), null, 0, 3.5m);

        var json = JsonSerializer.Serialize(Batch(odd), Store);

        JsonNode.Parse(json)!["records"]!.ShouldBeOfType<JsonArray>();
        JsonSerializer.Deserialize<UsageRecorded>(json, Store)!.Records.ShouldBe([odd]);
    }

    [Fact]
    public void An_empty_batch_and_a_malformed_packed_record_are_told_apart()
    {
        JsonSerializer.Deserialize<UsageRecorded>(JsonSerializer.Serialize(Batch(), Store), Store)!.Records.ShouldBeEmpty();
        var broken = """{"commitmentId":"deal","provider":"AWS","currency":"USD","recordedAt":"2025-09-01T00:00:00Z","rates":[],"records":"u-1,H100,,1.5,0,36000000000"}""";
        Should.Throw<JsonException>(() => JsonSerializer.Deserialize<UsageRecorded>(broken, Store));
    }
}
