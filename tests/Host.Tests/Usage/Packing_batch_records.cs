using System.Text;
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
    public void Whole_second_records_read_back_exactly_from_the_compact_layout()
    {
        var random = new Random(12);
        var calendar = (Min: Instant.MinValue.ToUnixTimeSeconds(), Max: Instant.MaxValue.ToUnixTimeSeconds());
        var records = Enumerable.Range(0, 5_000).Select(i =>
        {
            // Ids that share a long prefix with the first, ids that share none, and ids the first is a prefix of.
            var id = (i % 3) switch { 0 => $"meter-7.h{i}", 1 => $"{random.Next()}:x_y-{i}", _ => $"meter-7.h0{i}" };
            // Starts anywhere in the calendar (so before the first record's start too), windows of any length and sign.
            var start = random.NextInt64(calendar.Min / 2, calendar.Max / 2);
            return new RecordedUsage(id, i % 3 == 0 ? "Trainium2" : "Inferentia2", i % 4 == 0 ? null : (i % 8 == 1 ? "us-east-1" : "eu-west-2"),
                new decimal(random.Next(), random.Next(0, 100), 0, false, (byte)random.Next(0, 12)),
                Instant.FromUnixTimeSeconds(start), Instant.FromUnixTimeSeconds(start + random.NextInt64(-10_000_000, 10_000_000)),
                i % 2 == 0 ? null : random.NextInt64(0, 1_000_000_000_000_000), random.Next(0, 3),
                decimal.Round(new decimal(random.Next(), random.Next(0, 1000), 0, i % 7 == 0, 2), 2));
        }).ToArray();
        records[0] = records[0] with { UsageId = "meter-7.h0" };

        var json = JsonSerializer.Serialize(Batch(records), Store);

        JsonNode.Parse(json)!["records"]!.GetValue<string>().ShouldStartWith("~Trainium2,Inferentia2|us-east-1,eu-west-2|");
        var read = JsonSerializer.Deserialize<UsageRecorded>(json, Store)!;
        read.Records.ShouldBe(records);
        read.Records.Select(r => r.ChipHours.Scale).ShouldBe(records.Select(r => r.ChipHours.Scale));
        read.Records.Select(r => r.Amount.Scale).ShouldBe(records.Select(r => r.Amount.Scale));
    }

    [Fact]
    public void A_batch_naming_many_regions_or_a_finer_instant_keeps_the_plain_layout()
    {
        var hour = Instant.FromUtc(2025, 7, 1, 0, 0);
        var manyRegions = Enumerable.Range(0, 40).Select(i => new RecordedUsage($"r-{i}", "H100", $"region-{i}", 1m, hour, hour + Duration.FromHours(1), null, 0, 3.5m)).ToArray();
        var finer = new[] { manyRegions[0], manyRegions[1] with { End = hour + Duration.FromMilliseconds(1) } };

        foreach (var batch in new[] { manyRegions, finer })
        {
            var json = JsonSerializer.Serialize(Batch(batch), Store);
            JsonNode.Parse(json)!["records"]!.GetValue<string>().ShouldStartWith("r-0,H100,");
            JsonSerializer.Deserialize<UsageRecorded>(json, Store)!.Records.ShouldBe(batch);
        }
    }

    [Theory]
    [InlineData("~H100||1751328000|0,u-1,0,,1.5,0,3600,,0,5.25;9,x,0,,1,0,3600,,0,3.5", "shares 9 characters")]
    [InlineData("~H100||1751328000|2,u-1,0,,1.5,0,3600,,0,5.25", "shares no characters")]
    [InlineData("~H100||1751328000|0,u-1,1,,1.5,0,3600,,0,5.25", "entry 1 of a list of 1")]
    [InlineData("~H100||1751328000|0,u-1,0,0,1.5,0,3600,,0,5.25", "entry 0 of a list of 0")]
    [InlineData("~H100|1751328000|0,u-1,0,,1.5,0,3600,,0,5.25", "header")]
    [InlineData("~H100||1751328000|0,u-1,0,,1.5,0,3600,,0", "10 fields")]
    public void A_malformed_compact_batch_is_refused_saying_what_is_wrong(string packed, string reason)
    {
        var json = $$"""{"commitmentId":"deal","provider":"AWS","currency":"USD","recordedAt":"2025-09-01T00:00:00Z","rates":[],"records":"{{packed}}"}""";
        Should.Throw<JsonException>(() => JsonSerializer.Deserialize<UsageRecorded>(json, Store)).Message.ShouldContain(reason);
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
    [Theory]
    [InlineData(0)] // whole seconds: the compact layout
    [InlineData(7)] // 700 ns off the second: the first packed layout
    public void Picking_records_by_start_gives_the_records_a_full_read_holds_in_the_window(int offTicks)
    {
        var random = new Random(13 + offTicks);
        var hour = Instant.FromUtc(2025, 6, 28, 0, 0);
        var records = Enumerable.Range(0, 2_000).Select(i =>
        {
            // Starts over four days in any order; ids that share a prefix with the first and ids that do not.
            var start = hour.Plus(Duration.FromMinutes(random.Next(0, 4 * 24 * 60))).PlusTicks(offTicks);
            return new RecordedUsage(i % 4 == 0 ? $"{random.Next()}-{i}" : $"meter-9.h{i}", i % 3 == 0 ? "Trainium2" : "Inferentia2",
                i % 5 == 0 ? null : "us-east-1", 1m + random.Next(0, 50) / 10m, start, start.Plus(Duration.FromHours(1)),
                i % 2 == 0 ? null : random.NextInt64(0, 1_000_000), random.Next(0, 3), random.Next(1, 100_000) / 100m);
        }).ToArray();
        var packed = Encoding.UTF8.GetBytes(JsonNode.Parse(JsonSerializer.Serialize(Batch(records), Store))!["records"]!.GetValue<string>());
        (packed[0] == (byte)'~').ShouldBe(offTicks == 0);

        var picks = 0;
        for (var trial = 0; trial < 50; trial++)
        {
            // Windows inside, around and outside the starts, some excluding the first record, some from the start of time.
            var from = trial % 5 == 0 ? Instant.MinValue : hour.Plus(Duration.FromMinutes(random.Next(-600, 4 * 24 * 60)));
            var before = from == Instant.MinValue ? hour.Plus(Duration.FromMinutes(random.Next(0, 3000))) : from.Plus(Duration.FromMinutes(random.Next(0, 3000)));
            var expected = records.Where(r => r.Start >= from && r.Start < before).ToList();

            PackedRecordsJson.Pick(packed, from, before)!.ShouldBe(expected);
            picks += expected.Count;
        }

        picks.ShouldBeInRange(1_000, 50 * 2_000 / 2);
        PackedRecordsJson.Pick(packed, Instant.MinValue, Instant.MaxValue)!.ShouldBe(records);
        PackedRecordsJson.Pick([], Instant.MinValue, Instant.MaxValue)!.ShouldBeEmpty();
    }

    [Fact]
    public void A_batch_stored_as_arrays_is_not_picked_from()
    {
        var odd = new RecordedUsage("legacy;id", "H100", null, 1m, Instant.FromUtc(2025, 7, 1, 0, 0), Instant.FromUtc(2025, 7, 1, 1, 0), null, 0, 3.5m);
        var records = JsonNode.Parse(JsonSerializer.Serialize(Batch(odd), Store))!["records"]!.ToJsonString();

        PackedRecordsJson.Pick(Encoding.UTF8.GetBytes(records), Instant.MinValue, Instant.MaxValue).ShouldBeNull();
    }
}
