using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Lineage;

public class Restatements_are_bounded(LedgerFixture fixture) : LineageTest(fixture)
{
    [Fact]
    public async Task A_figure_restated_by_more_than_100_events_counts_them_all_and_names_the_first_100_of_its_lineage()
    {
        await At("2025-07-05T10:00:00Z", () => Post(Record("early", 2m)));
        for (var i = 0; i < 101; i++)
        {
            var n = i;
            await At($"2025-08-10T10:{n / 60:00}:{n % 60:00}Z", () => Post(Record($"late-{n}", 1m, start: "2025-07-20T00:00:00Z", end: "2025-07-20T01:00:00Z")));
        }

        await CatchUp();

        var reply = await Analyst.GetJson("/api/restatements?knownFrom=2025-08-01&knownTo=2025-08-31");
        reply.Code.ShouldBe(200, reply.ToString());
        var spend = reply.Json["restatements"]!.AsArray().Single(e => e!["figure"]!.GetValue<string>() == "chipSpend")!;
        spend["old"].Amount().ShouldBe(7.00m);
        spend["new"].Amount().ShouldBe(7.00m + (101 * 3.50m));
        spend["eventCount"]!.GetValue<long>().ShouldBe(101);
        var ids = spend["eventIds"]!.AsArray().Select(i => i!.GetValue<Guid>()).ToList();
        ids.Count.ShouldBe(100);

        var lineage = await AllPages("/api/explain/spend/AWS/Trainium2/2025-07", "", 1000);
        ids.ShouldBe(lineage.Records.Skip(1).Take(100).Select(r => r["eventId"]!.GetValue<Guid>()).ToList());
        foreach (var figure in new[] { "providerRevenue", "commitmentDrawdown" })
        {
            reply.Json["restatements"]!.AsArray().Single(e => e!["figure"]!.GetValue<string>() == figure)!["eventCount"]!.GetValue<long>().ShouldBe(101);
        }

        // A window that holds only some of them, cut at an instant.
        var some = await Analyst.GetJson("/api/restatements?knownFrom=2025-08-10T10:00:49Z&knownTo=2025-08-10T10:01:00Z");
        var part = some.Json["restatements"]!.AsArray().Single(e => e!["figure"]!.GetValue<string>() == "chipSpend")!;
        part["eventCount"]!.GetValue<long>().ShouldBe(11);
        part["old"].Amount().ShouldBe(7.00m + (50 * 3.50m));
        part["new"].Amount().ShouldBe(7.00m + (61 * 3.50m));
    }
}
