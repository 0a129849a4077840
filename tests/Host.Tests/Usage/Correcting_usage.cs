using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

public class Correcting_usage(LedgerFixture fixture) : UsageTest(fixture)
{
    private async Task<Dictionary<string, decimal>> SpendByMonth()
    {
        await CatchUp();
        return (await Analyst.GetJson("/api/spend/chips?chip=Trainium2")).Json["rows"]!.AsArray()
            .ToDictionary(r => r!["month"]!.GetValue<string>(), r => r!["spend"].Amount());
    }

    [Fact]
    public async Task A_void_reverses_the_record_everywhere_and_repeating_it_does_nothing()
    {
        await Post(Record("keep", 2m), Record("wrong", 4m));

        var voided = await Admin.PostJson("/api/usage/wrong/void", new { reason = "duplicate meter" });
        voided.Code.ShouldBe(200, voided.ToString());
        voided.Json["voided"]!.GetValue<bool>().ShouldBeTrue();
        (await Admin.PostJson("/api/usage/wrong/void", new { reason = "again" })).Code.ShouldBe(200);

        (await CountEvents("usage_voided")).ShouldBe(1);
        (await SpendByMonth())["2025-07"].ShouldBe(7.00m);
        var reconciliation = (await Analyst.GetJson("/api/reconciliation")).Json;
        reconciliation["balanced"]!.GetValue<bool>().ShouldBeTrue(reconciliation.ToJsonString());
        reconciliation["currencies"]![0]!["acceptedUsage"]!.GetValue<decimal>().ShouldBe(7.00m);
        var drawdown = (await Analyst.GetJson("/api/commitments/amazon-anthropic/drawdown")).Json;
        drawdown["consumed"].Amount().ShouldBe(7.00m);
    }

    [Fact]
    public async Task A_correction_reprices_and_can_move_the_record_to_another_month()
    {
        await Post(Record("moved", 2m));

        var corrected = await Admin.PostJson("/api/usage/moved/correct",
            new { chipHours = 3m, start = "2025-08-01T00:00:00Z", end = "2025-08-01T01:00:00Z", reason = "meter clock was off" });

        corrected.Code.ShouldBe(200, corrected.ToString());
        corrected.Json["amount"].Amount().ShouldBe(10.50m);
        var spend = await SpendByMonth();
        spend["2025-07"].ShouldBe(0m);
        spend["2025-08"].ShouldBe(10.50m);
        (await Analyst.GetJson("/api/reconciliation")).Json["balanced"]!.GetValue<bool>().ShouldBeTrue();

        (await Admin.PostJson("/api/usage/moved/correct", new { chipHours = 3m })).Code.ShouldBe(200);
        (await CountEvents("usage_corrected")).ShouldBe(1);
    }

    [Fact]
    public async Task Unknown_records_are_404_and_a_voided_record_cannot_be_corrected()
    {
        (await Admin.PostJson("/api/usage/nope/void", new { reason = "x" })).Code.ShouldBe(404);
        await Post(Record("gone"));
        await Admin.PostJson("/api/usage/gone/void", new { reason = "x" });

        var reply = await Admin.PostJson("/api/usage/gone/correct", new { chipHours = 1m });

        reply.Code.ShouldBe(409);
        reply.Json["detail"]!.GetValue<string>().ShouldContain("voided");
        (await Admin.PostJson("/api/usage/gone/void", new { })).Code.ShouldBe(400);
        (await Admin.PostJson("/api/usage/gone/correct", new { reason = "nothing to change" })).Code.ShouldBe(400);
    }
}
