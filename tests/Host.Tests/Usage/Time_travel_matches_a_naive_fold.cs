// Over 200 lines: the generator of histories and the naive fold it is checked against must sit side by side, or a
// reader cannot see that the fold is naive.
using System.Globalization;
using ComputeLedger.Host.Tests.Infrastructure;
using CsCheck;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>
/// Property: for randomized histories (late records, voids, corrections, milestone achievements and revocations, each
/// recorded on its own day) every read endpoint answers, for any asOf and knownAt, what a from-scratch fold of the
/// history filtered on both axes gives. The fold here is written independently of the ledger's code.
/// </summary>
public class Time_travel_matches_a_naive_fold(LedgerFixture fixture) : UsageTest(fixture)
{
    protected override DateTimeOffset? ArrangedAt => Origin;

    private static readonly DateTimeOffset Origin = new(2025, 1, 1, 8, 0, 0, TimeSpan.Zero);

    private enum Kind { Consume, Void, Correct, Achieve, Revoke }

    private sealed record Op(Kind Kind, int Record, int Day, decimal Hours, int Chip, int Milestone);

    private static readonly Gen<Op> Ops = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 11], Gen.Int[0, 200], Gen.Int[1, 9], Gen.Int[0, 2], Gen.Int[0, 2],
        (kind, record, day, hours, chip, milestone) => new Op(
            kind switch { < 5 => Kind.Consume, 5 => Kind.Void, 6 or 7 => Kind.Correct, 8 => Kind.Achieve, _ => Kind.Revoke },
            record, day, hours, chip, milestone));

    // One usage record as the naive model tracks it.
    private sealed record Figures(DateTime Start, decimal Hours, string Chip, string? Region)
    {
        public decimal Amount => decimal.Round(Hours * (Chip, Region) switch
        {
            ("Trainium2", "us-east-1") => 3.50m,
            ("Trainium2", _) => 4.00m,
            _ => 1.25m,
        }, 2, MidpointRounding.AwayFromZero);

        public string Month => Start.ToString("yyyy-MM", CultureInfo.InvariantCulture);
    }

    // A fact of the history: when it was recorded (known), when it is true (valid), and its effect on the totals.
    private sealed record Fact(DateTime Known, DateTime Valid, Figures? Minus, Figures? Plus, string? Milestone, DateTime? AchievedOn);

    private static readonly string[] Chips = ["Trainium2", "Trainium2", "Inferentia2"];
    private static readonly string?[] Regions = ["us-east-1", "eu-west-1", null];
    private static readonly string[] Milestones = ["trillion-param-model", "aws-throughput-target", "inference-at-scale"];

    [Fact]
    public async Task Every_read_equals_a_fold_of_the_history_filtered_on_both_axes()
    {
        var probes = Gen.Select(Gen.Int[0, 260], Gen.Int[205, 300], (asOf, knownAt) => (AsOf: asOf, KnownAt: knownAt)).Array[6];
        await Gen.Select(Ops.Array[15, 40], probes).SampleAsync(async (ops, points) =>
        {
            await InitializeAsync();
            var facts = await Record(ops);
            await CatchUp();
            foreach (var (asOfDay, knownDay) in points)
            {
                await Compare(facts, Origin.UtcDateTime.Date.AddDays(asOfDay), Origin.UtcDateTime.Date.AddDays(knownDay));
            }
        }, iter: 3, threads: 1);
    }

    /// <summary>Plays the operations through the API, one known day each, and keeps the facts the ledger accepted.</summary>
    private async Task<List<Fact>> Record(Op[] ops)
    {
        var facts = new List<Fact>();
        var records = new Dictionary<int, (Figures Current, bool Voided)>();
        var achieved = new Dictionary<int, DateTime>();
        for (var i = 0; i < ops.Length; i++)
        {
            var op = ops[i];
            // Recorded after every valid day the generator uses (usage may not end in the future), two days apart,
            // so knownAt probes cut the history between operations.
            var known = Origin.AddDays(210 + (2 * i));
            Fixture.Time.Pinned = known;
            var start = Origin.UtcDateTime.Date.AddDays(op.Day).AddHours(op.Record);
            switch (op.Kind)
            {
                case Kind.Consume when !records.ContainsKey(op.Record):
                    var figures = new Figures(start, op.Hours, Chips[op.Chip], Regions[op.Chip]);
                    (await Post(Record($"r{op.Record}", figures.Hours, figures.Chip, figures.Region, Iso(start), Iso(start.AddHours(1)))))
                        .Json["accepted"]!.GetValue<int>().ShouldBe(1);
                    records[op.Record] = (figures, false);
                    facts.Add(new Fact(known.UtcDateTime, start, null, figures, null, null));
                    break;
                case Kind.Void when records.TryGetValue(op.Record, out var r):
                    (await Admin.PostJson($"/api/usage/r{op.Record}/void", new { reason = "test" })).Code.ShouldBe(200);
                    if (!r.Voided)
                    {
                        facts.Add(new Fact(known.UtcDateTime, r.Current.Start, r.Current, null, null, null));
                        records[op.Record] = (r.Current, true);
                    }

                    break;
                case Kind.Correct when records.TryGetValue(op.Record, out var r):
                    var after = r.Current with { Hours = op.Hours, Start = start };
                    var reply = await Admin.PostJson($"/api/usage/r{op.Record}/correct", new { chipHours = after.Hours, start = Iso(start), end = Iso(start.AddHours(1)) });
                    reply.Code.ShouldBe(r.Voided ? 409 : 200, reply.ToString());
                    if (!r.Voided && after != r.Current)
                    {
                        facts.Add(new Fact(known.UtcDateTime, r.Current.Start, r.Current, after, null, null));
                        records[op.Record] = (after, false);
                    }

                    break;
                case Kind.Achieve:
                    var on = start.Date;
                    var achieve = await Admin.PostJson($"/api/commitments/amazon-anthropic/milestones/{Milestones[op.Milestone]}/achieve",
                        new { achievedOn = on.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), evidence = "test" });
                    if (!achieved.TryGetValue(op.Milestone, out var existing))
                    {
                        achieve.Code.ShouldBe(200, achieve.ToString());
                        achieved[op.Milestone] = on;
                        facts.Add(new Fact(known.UtcDateTime, on, null, null, Milestones[op.Milestone], on));
                    }
                    else
                    {
                        achieve.Code.ShouldBe(existing == on ? 200 : 409, achieve.ToString());
                    }

                    break;
                case Kind.Revoke when achieved.TryGetValue(op.Milestone, out var was):
                    (await Admin.PostJson($"/api/commitments/amazon-anthropic/milestones/{Milestones[op.Milestone]}/revoke", new { reason = "test" }))
                        .Code.ShouldBe(200);
                    achieved.Remove(op.Milestone);
                    facts.Add(new Fact(known.UtcDateTime, was, null, null, Milestones[op.Milestone], null));
                    break;
            }
        }

        Fixture.Time.Pinned = null;
        return facts;
    }

    private async Task Compare(List<Fact> facts, DateTime asOfDay, DateTime knownDay)
    {
        var (validBefore, knownBefore) = (asOfDay.AddDays(1), knownDay.AddDays(1));
        var kept = facts.Where(f => f.Known < knownBefore && f.Valid < validBefore).ToList();
        var axes = $"asOf={asOfDay:yyyy-MM-dd}&knownAt={knownDay:yyyy-MM-dd}";
        var because = $"{axes}\n{string.Join("\n", facts)}";

        var expectedSpend = new Dictionary<string, decimal>();
        foreach (var f in kept.Where(f => f.Milestone is null))
        {
            if (f.Minus is { } m)
            {
                expectedSpend[$"{m.Month}|{m.Chip}"] = expectedSpend.GetValueOrDefault($"{m.Month}|{m.Chip}") - m.Amount;
            }

            if (f.Plus is { } p)
            {
                expectedSpend[$"{p.Month}|{p.Chip}"] = expectedSpend.GetValueOrDefault($"{p.Month}|{p.Chip}") + p.Amount;
            }
        }

        var spend = (await Analyst.GetJson($"/api/spend/chips?{axes}")).Json["rows"]!.AsArray()
            .ToDictionary(r => $"{r!["month"]}|{r["chip"]}", r => r!["spend"].Amount());
        foreach (var key in expectedSpend.Keys.Union(spend.Keys))
        {
            spend.GetValueOrDefault(key).ShouldBe(expectedSpend.GetValueOrDefault(key), $"chip spend {key}; {because}");
        }

        var revenue = (await Analyst.GetJson($"/api/revenue/providers?{axes}")).Json["rows"]!.AsArray()
            .ToDictionary(r => r!["month"]!.GetValue<string>(), r => r!["revenue"].Amount());
        foreach (var month in expectedSpend.Keys.Select(k => k[..7]).Union(revenue.Keys).Distinct())
        {
            revenue.GetValueOrDefault(month).ShouldBe(expectedSpend.Where(e => e.Key.StartsWith(month, StringComparison.Ordinal)).Sum(e => e.Value),
                $"revenue {month}; {because}");
        }

        // The article's tables read the same views: chip economics per chip over every month, yearly revenue per year.
        var economics = (await Analyst.GetJson($"/api/economics/chips?{axes}")).Json["rows"]!.AsArray()
            .ToDictionary(r => r!["chip"]!.GetValue<string>(), r => (Spend: r!["spend"].Amount(), Hours: r["chipHours"]!.GetValue<decimal>()));
        foreach (var chip in Chips.Distinct().Union(economics.Keys))
        {
            economics.GetValueOrDefault(chip).Spend.ShouldBe(expectedSpend.Where(e => e.Key.EndsWith($"|{chip}", StringComparison.Ordinal)).Sum(e => e.Value),
                $"economics {chip}; {because}");
            economics.GetValueOrDefault(chip).Hours.ShouldBe(ExpectedHours(kept, chip), $"economics hours {chip}; {because}");
        }

        var yearly = (await Analyst.GetJson($"/api/revenue/providers/yearly?{axes}")).Json["rows"]!.AsArray()
            .ToDictionary(r => r!["year"]!.GetValue<int>(), r => r!["revenue"].Amount());
        foreach (var year in expectedSpend.Keys.Select(k => int.Parse(k[..4], CultureInfo.InvariantCulture)).Union(yearly.Keys).Distinct())
        {
            yearly.GetValueOrDefault(year).ShouldBe(expectedSpend.Where(e => e.Key.StartsWith($"{year:D4}-", StringComparison.Ordinal)).Sum(e => e.Value),
                $"yearly revenue {year}; {because}");
        }

        var drawdown = (await Analyst.GetJson($"/api/commitments/amazon-anthropic/drawdown?{axes}")).Json;
        drawdown["consumed"].Amount().ShouldBe(expectedSpend.Values.Sum(), because);
        var reconciliation = (await Analyst.GetJson($"/api/reconciliation?{axes}")).Json;
        reconciliation["balanced"]!.GetValue<bool>().ShouldBeTrue(because);

        var achieved = new Dictionary<string, DateTime>();
        foreach (var f in kept.Where(f => f.Milestone is not null))
        {
            if (f.AchievedOn is { } on)
            {
                achieved[f.Milestone!] = on;
            }
            else
            {
                achieved.Remove(f.Milestone!);
            }
        }

        var eligibility = await Analyst.GetJson($"/api/commitments/amazon-anthropic/eligibility?{axes}");
        eligibility.Code.ShouldBe(200, because);
        var signed = asOfDay >= new DateTime(2024, 3, 27);
        var expectedEligible = 0m;
        foreach (var tranche in eligibility.Json["tranches"]!.AsArray().Where(t => t!["trancheId"]!.GetValue<string>() != "upfront"))
        {
            var needs = tranche!["milestones"]!.AsArray().Select(m => m!["milestoneId"]!.GetValue<string>()).ToList();
            var eligible = signed && needs.All(achieved.ContainsKey);
            expectedEligible += eligible ? tranche["amount"].Amount() : 0m;
            tranche["status"]!.GetValue<string>().ShouldBe(eligible ? "Eligible" : "Locked", because);
            foreach (var m in tranche["milestones"]!.AsArray())
            {
                var id = m!["milestoneId"]!.GetValue<string>();
                m["achievedOn"]?.GetValue<string>().ShouldBe(achieved.TryGetValue(id, out var d) ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : null, because);
            }
        }

        await CompareList(axes, expectedEligible, because);

        var deal = (await Analyst.GetJson($"/api/deals?{axes}")).Json["deals"]!.AsArray().Single()!;
        deal["eligible"].Amount().ShouldBe(expectedEligible, because);
        deal["consumed"].Amount().ShouldBe(expectedSpend.Values.Sum(), because);
        deal["consumedOnInvestorCloud"].Amount().ShouldBe(expectedSpend.Values.Sum(), because);
    }

    private static decimal ExpectedHours(List<Fact> kept, string chip) =>
        kept.Where(f => f.Milestone is null).Sum(f => (f.Plus is { } p && p.Chip == chip ? p.Hours : 0m) - (f.Minus is { } m && m.Chip == chip ? m.Hours : 0m));

    private async Task CompareList(string axes, decimal expectedEligible, string because)
    {
        var list = (await Analyst.GetJson($"/api/commitments?{axes}")).Json.AsArray();
        list.Single()!["eligible"].Amount().ShouldBe(expectedEligible, because);
    }

    private static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
