using System.Globalization;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Projections.Usage;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Host.Tests.Lineage;

/// <summary>
/// asOf/knownAt given as instants (boundary days read from the lineage rows) answer exactly what a from-scratch fold of
/// the history answers, for chip spend, provider revenue and drawdown, at random instants, at midnight exactly, and at
/// the very instant an event was recorded or a record starts.
/// </summary>
public class Instant_axes_match_the_naive_fold(LedgerFixture fixture) : LineageTest(fixture)
{
    [Fact]
    public async Task Chip_spend_revenue_and_drawdown_at_instants_equal_the_fold()
    {
        var random = new Random(20261130);
        var origin = new DateTime(2025, 7, 1, 0, 0, 0, DateTimeKind.Utc);
        var known = new DateTime(2025, 8, 1, 0, 0, 0, DateTimeKind.Utc);
        var recorded = new List<string>();
        var knownTimes = new List<DateTime>();
        var starts = new List<DateTime>();
        for (var op = 0; op < 30; op++)
        {
            known = known.AddMinutes(random.Next(60, 60 * 20));
            var at = known.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            knownTimes.Add(known);
            if (recorded.Count > 2 && random.Next(4) == 0)
            {
                var id = recorded[random.Next(recorded.Count)];
                Fixture.Time.Pinned = known;
                await Admin.PostJson($"/api/usage/{id}/void", new { reason = "x" });
                Fixture.Time.Pinned = null;
                continue;
            }

            if (recorded.Count > 2 && random.Next(4) == 0)
            {
                var id = recorded[random.Next(recorded.Count)];
                var start = origin.AddHours(random.Next(0, 24 * 45));
                Fixture.Time.Pinned = known;
                await Admin.PostJson($"/api/usage/{id}/correct", new { chipHours = random.Next(1, 9), start, end = start.AddHours(1) });
                Fixture.Time.Pinned = null;
                continue;
            }

            var records = Enumerable.Range(0, random.Next(1, 5)).Select(_ =>
            {
                var start = origin.AddHours(random.Next(0, 24 * 40)).AddMinutes(random.Next(0, 60));
                starts.Add(start);
                var id = $"u{recorded.Count}";
                recorded.Add(id);
                return (object)Record(id, random.Next(1, 9), chip: random.Next(3) == 0 ? "Inferentia2" : "Trainium2",
                    start: start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                    end: start.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                    tokens: random.Next(2) == 0 ? null : random.Next(1, 5_000_000));
            }).ToArray();
            await At(at, () => Post(records));
        }

        await CatchUp();

        static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
        var probes = new List<(string? AsOf, string? KnownAt)>
        {
            (Iso(starts[3]), null),
            (null, Iso(knownTimes[10])),
            (Iso(starts[5]), Iso(knownTimes[20])),
            (Iso(origin.AddDays(20)), Iso(knownTimes[15].Date)),
            (null, Iso(knownTimes[12].Date.AddDays(1))),
        };
        for (var p = 0; p < 10; p++)
        {
            probes.Add((random.Next(3) == 0 ? null : Iso(origin.AddMinutes(random.Next(0, 60 * 24 * 45))),
                Iso(knownTimes[0].AddMinutes(random.Next(0, (int)(known - knownTimes[0]).TotalMinutes + 60)))));
        }

        // asOf at the last second of an hour: every record of that hour starts before it, so closed days' hourly sums
        // stand in for their events; at an hour's first instant and mid-hour, records later in the hour make a closed day
        // replay its events instead.
        for (var p = 0; p < 6; p++)
        {
            var hour = origin.AddHours(random.Next(0, 24 * 40));
            probes.Add((Iso(hour.AddMinutes(59).AddSeconds(59)), p % 2 == 0 ? null : Iso(knownTimes[random.Next(15, 30)])));
            probes.Add((Iso(hour.AddMinutes(p * 10)), Iso(knownTimes[random.Next(15, 30)])));

            // Next to a record: just before it in its hour (a closed day holding it must replay, not sum the hour), and at
            // the end of the hour before (its hour must not be summed).
            var start = starts[random.Next(starts.Count)];
            probes.Add((Iso(start.AddTicks(-1)), null));
            probes.Add((Iso(start.Date.AddHours(start.Hour).AddTicks(-1)), null));
        }

        // Events recorded on knownAt's day whose records are all valid before asOf's day are summed from their slices; a
        // ledger whose slices predate those sums (null) replays them instead. Both must give the fold's answer.
        (await Sql("select count(*) from ledger.usage_lineage_slices where records is null"))!.ShouldBe(0L);
        await Check();

        // Known days closed (hourly sums per valid day), first the earlier half, then all but the last: both must give the
        // fold's answer, the open days' events replayed beside the closed days' sums.
        var ct = TestContext.Current.CancellationToken;
        (await KnownDayHours.CloseDue(Fixture.Store, Instant.FromDateTimeUtc(knownTimes[15]), ct)).ShouldBeGreaterThan(3);
        await Check();
        (await KnownDayHours.CloseDue(Fixture.Store, Instant.FromDateTimeUtc(known), ct)).ShouldBeGreaterThan(3);
        var hourRows = (long)(await Sql("select count(*) from ledger.usage_day_hours"))!;
        hourRows.ShouldBeGreaterThan(20L);

        // A day closed already (by another host, or a retry) is left as it is: its rows are never written twice.
        var closedDay = (int)(await Sql("select min(known_day) from ledger.usage_day_hours_closed"))!;
        (await KnownDayHours.Close(Fixture.Store, closedDay, Instant.FromDateTimeUtc(known), ct)).ShouldBe(false);
        (await Sql("select count(*) from ledger.usage_day_hours"))!.ShouldBe(hourRows);
        await Check();

        // An event recorded on a closed day after it was closed (a commit that came late) is replayed, not lost.
        var lateStart = origin.AddHours(random.Next(0, 24 * 40));
        starts.Add(lateStart);
        await At(Iso(knownTimes[4].AddMinutes(1)), () => Post(Record("late", 7, start: Iso(lateStart), end: Iso(lateStart.AddHours(1)))));
        await CatchUp();
        probes.Add((Iso(lateStart.AddMinutes(59).AddSeconds(59)), null));
        probes.Add((Iso(lateStart.AddHours(1)), Iso(known)));
        await Check();

        await Sql("update ledger.usage_lineage_slices set chip_hours = null, tokens = null, tokenized_amount = null, records = null where seq % 2 = 0");
        await Check();

        // Lineage rows behind every closed day (as while a rebuild refills them): the closed days' sums are not used, and
        // their events are read from the rows and the tail after the rows' mark, each once.
        var coordinator = Fixture.Host.Services.GetRequiredService<Marten.Events.Daemon.Coordination.IProjectionCoordinator>();
        await coordinator.PauseAsync();
        // The rows stop inside a closed day: its first event in them, the rest only in the tail.
        var behind = (long)(await Sql($"""
            with days as (select floor(known_ns / {KnownDayHours.DayNs}.0)::int as day, seq from ledger.usage_lineage_slices)
            select min(seq) from days where day = (
                select day from days where day in (select known_day from ledger.usage_day_hours_closed)
                group by day having count(distinct seq) >= 3 order by day limit 1)
            """))!;
        await Sql($"delete from ledger.usage_lineage_slices where seq > {behind}; "
                  + $"update ledger.mt_event_progression set last_seq_id = {behind} where name = '{UsageLineageSlices.ProjectionName}:All'");
        probes.Clear();
        probes.AddRange(starts.Select(start => ((string?)Iso(start.Date.AddHours(start.Hour + 1).AddTicks(-1)), (string?)null)));
        await Check();
        await coordinator.ResumeAsync();
        return;

        async Task Check()
        {
            foreach (var (asOf, knownAt) in probes)
            {
                var axes = string.Join("&", new[] { asOf is null ? null : $"asOf={asOf}", knownAt is null ? null : $"knownAt={knownAt}" }.Where(a => a is not null));
                var expected = await Replay(asOf, knownAt);

                var rows = (await Analyst.GetJson($"/api/spend/chips?from=2025-01&to=2025-12&{axes}")).Json["rows"]!.AsArray();
                var spend = rows.ToDictionary(r => $"AWS|{r!["chip"]}|{r["month"]}", r => r!["spend"].Amount());
                var tokens = rows.ToDictionary(r => $"AWS|{r!["chip"]}|{r["month"]}", r => r!["tokens"]!.GetValue<decimal>());
                var records = rows.ToDictionary(r => $"AWS|{r!["chip"]}|{r["month"]}", r => r!["records"]!.GetValue<long>());
                foreach (var key in spend.Keys.Union(expected.Spend.Keys))
                {
                    spend.GetValueOrDefault(key).ShouldBe(expected.Spend.GetValueOrDefault(key)?.Spend.Amount ?? 0m, $"{axes} {key}");
                    tokens.GetValueOrDefault(key).ShouldBe(expected.Spend.GetValueOrDefault(key)?.Tokens ?? 0m, $"{axes} {key} tokens");
                    records.GetValueOrDefault(key).ShouldBe(expected.Spend.GetValueOrDefault(key)?.Records ?? 0L, $"{axes} {key} records");
                }

                var revenue = (await Analyst.GetJson($"/api/revenue/providers?from=2025-01&to=2025-12&{axes}")).Json["rows"]!.AsArray()
                    .ToDictionary(r => $"AWS|{r!["month"]}", r => r!["revenue"].Amount());
                foreach (var key in revenue.Keys.Union(expected.Revenue.Keys))
                {
                    revenue.GetValueOrDefault(key).ShouldBe(expected.Revenue.GetValueOrDefault(key)?.Revenue.Amount ?? 0m, $"{axes} {key}");
                }

                var drawdown = (await Analyst.GetJson($"/api/commitments/amazon-anthropic/drawdown?{axes}")).Json;
                (drawdown["consumed"] is null ? 0m : drawdown["consumed"].Amount()).ShouldBe(expected.Drawdowns.GetValueOrDefault("amazon-anthropic")?.Consumed?.Amount ?? 0m, axes);

                var lineage = await AllPages("/api/explain/revenue/AWS/2025-07", axes, 1000);
                lineage.Records.Sum(r => r["amount"].Amount()).ShouldBe(expected.Revenue.GetValueOrDefault("AWS|2025-07")?.Revenue.Amount ?? 0m, axes);
            }
        }
    }
}
