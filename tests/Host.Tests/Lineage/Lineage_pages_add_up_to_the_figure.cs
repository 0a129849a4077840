using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Lineage;

/// <summary>
/// A figure's lineage read page by page, on both axes, over multi-record batches, a void and two corrections (one moving
/// its record to another month): every page's amounts add up to the figure, the counts are the entries and events listed.
/// </summary>
public class Lineage_pages_add_up_to_the_figure(LedgerFixture fixture) : LineageTest(fixture)
{
    private async Task History()
    {
        await At("2025-07-05T10:00:00Z", () => Post(
            Record("t1", 2m, start: "2025-07-01T00:00:00Z", end: "2025-07-01T01:00:00Z"),
            Record("t2", 1m, start: "2025-07-02T13:00:00Z", end: "2025-07-02T14:00:00Z"),
            Record("i1", 4m, chip: "Inferentia2", start: "2025-07-02T00:00:00Z", end: "2025-07-02T01:00:00Z"),
            Record("t3", 3m, start: "2025-07-03T08:00:00Z", end: "2025-07-03T09:00:00Z")));
        await At("2025-07-20T15:30:00Z", () => Post(Record("t4", 1m, start: "2025-07-20T06:00:00Z", end: "2025-07-20T07:00:00Z")));
        await At("2025-08-10T10:00:00Z", () => Post(Record("t6", 1m, start: "2025-07-25T12:00:00Z", end: "2025-07-25T13:00:00Z")));
        await At("2025-08-15T09:00:00Z", () => Admin.PostJson("/api/usage/t2/void", new { reason = "meter fault" }));
        await At("2025-08-15T18:00:00Z", () => Admin.PostJson("/api/usage/t3/correct", new { chipHours = 5m }));
        await At("2025-08-20T10:00:00Z", () => Admin.PostJson("/api/usage/t4/correct",
            new { chipHours = 1m, start = "2025-08-01T00:00:00Z", end = "2025-08-01T01:00:00Z", reason = "clock" }));
        await CatchUp();
    }

    [Fact]
    public async Task Paging_a_chip_month_gives_its_entries_once_each_and_they_sum_to_the_figure()
    {
        await History();

        var (first, records, pages) = await AllPages("/api/explain/spend/AWS/Trainium2/2025-07", "", 2);

        // t1 7.00, t2 3.50 voided, t3 10.50 corrected to 17.50, t4 3.50 moved to August, t6 3.50.
        first["value"].Amount().ShouldBe(28.00m);
        first["recordCount"]!.GetValue<long>().ShouldBe(9);
        first["eventCount"]!.GetValue<long>().ShouldBe(6);
        pages.ShouldBe(5);
        records.Select(r => $"{r["usageId"]}:{r["type"]}:{r["amount"].Amount()}").ShouldBe(
        [
            "t1:usage_recorded:7.00", "t2:usage_recorded:3.50", "t3:usage_recorded:10.50", "t4:usage_recorded:3.50", "t6:usage_recorded:3.50",
            "t2:usage_voided:-3.50", "t3:usage_corrected:-10.50", "t3:usage_corrected:17.50", "t4:usage_corrected:-3.50",
        ]);
        records[6]["chipHours"]!.GetValue<decimal>().ShouldBe(-3m);
        records[8]["validTime"]!.GetValue<string>().ShouldBe("2025-07-20T06:00:00Z");
        records[8]["knownTime"]!.GetValue<string>().ShouldStartWith("2025-08-20T10:00:00");

        var august = await AllPages("/api/explain/spend/AWS/Trainium2/2025-08", "", 100);
        august.Records.Select(r => $"{r["usageId"]}:{r["type"]}:{r["amount"].Amount()}").ShouldBe(["t4:usage_corrected:3.50"]);
        august.First["next"].ShouldBeNull();
    }

    [Theory]
    [InlineData("")]
    [InlineData("knownAt=2025-08-12")]
    [InlineData("asOf=2025-07-15")]
    [InlineData("knownAt=2025-08-15T12:00:00Z")]
    [InlineData("knownAt=2025-07-20T15:30:00Z")]
    [InlineData("asOf=2025-07-20T06:00:00Z")]
    [InlineData("asOf=2025-07-02T12:00:00Z&knownAt=2025-08-15T20:00:00Z")]
    [InlineData("asOf=2025-07-03&knownAt=2025-08-15T08:59:59.999Z")]
    public async Task On_any_axes_the_pages_sum_to_the_naive_fold_and_the_counts_are_what_they_list(string axes)
    {
        await History();
        var query = axes.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        var expected = await Replay(query.GetValueOrDefault("asOf"), query.GetValueOrDefault("knownAt"));

        foreach (var (path, figure) in new[]
                 {
                     ("/api/explain/spend/AWS/Trainium2/2025-07", expected.Spend.GetValueOrDefault("AWS|Trainium2|2025-07")?.Spend),
                     ("/api/explain/spend/AWS/Inferentia2/2025-07", expected.Spend.GetValueOrDefault("AWS|Inferentia2|2025-07")?.Spend),
                     ("/api/explain/revenue/AWS/2025-07", expected.Revenue.GetValueOrDefault("AWS|2025-07")?.Revenue),
                     ("/api/explain/revenue/AWS/2025-08", expected.Revenue.GetValueOrDefault("AWS|2025-08")?.Revenue),
                 })
        {
            var (first, records, _) = await AllPages(path, axes, 3);
            var because = $"{path}?{axes}";
            (first["value"] is null ? 0m : first["value"].Amount()).ShouldBe(figure?.Amount ?? 0m, because);
            records.Sum(r => r["amount"].Amount()).ShouldBe(figure?.Amount ?? 0m, because);
            first["recordCount"]!.GetValue<long>().ShouldBe(records.Count, because);
            first["eventCount"]!.GetValue<long>().ShouldBe(records.Select(r => r["eventId"]!.GetValue<Guid>()).Distinct().Count(), because);
            var positions = records.Select(r => (r["sequence"]!.GetValue<long>(), r["index"]!.GetValue<int>())).ToList();
            positions.ShouldBe(positions.Order().Distinct().ToList(), because);
        }
    }

    [Fact]
    public async Task A_limit_out_of_range_or_a_malformed_cursor_is_a_400_naming_it()
    {
        await History();
        const string Path = "/api/explain/revenue/AWS/2025-07";

        foreach (var limit in new[] { "0", "1001", "-1", "ten", "1.5", "99999999999" })
        {
            var reply = await Analyst.GetJson($"{Path}?limit={limit}");
            reply.Code.ShouldBe(400, limit);
            reply.Json["errors"]!["limit"].ShouldNotBeNull(limit);
        }

        var fine = await Analyst.GetJson($"{Path}?limit=1000");
        fine.Code.ShouldBe(200);
        fine.Json["records"]!.AsArray().Count.ShouldBe(10);
        fine.Json["next"].ShouldBeNull();
        (await Analyst.GetJson(Path)).Json["records"]!.AsArray().Count.ShouldBe(10);

        var next = (await Analyst.GetJson($"{Path}?limit=4")).Json["next"]!.GetValue<string>();
        (await Analyst.GetJson($"{Path}?limit=4&after={next}")).Code.ShouldBe(200);
        // Its own encoding with the sequence past the snapshot it names, the wrong version, or not base64 at all.
        static string Encode(string text) => Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(text)).TrimEnd('=');
        foreach (var after in new[] { "x", next + "!", next[..^2], Encode("l1.5.9.0"), Encode("l2.9.5.0"), Encode("l1.9.5"), Encode("l1.9.-5.0"), "%00" })
        {
            var reply = await Analyst.GetJson($"{Path}?after={Uri.EscapeDataString(after)}");
            reply.Code.ShouldBe(400, after);
            reply.Json["errors"]!["after"].ShouldNotBeNull(after);
        }
    }
}
