using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Projections.Tests.Usage;

public class Lineage_folds
{
    private static readonly Instant July = Instant.FromUtc(2025, 7, 10, 0, 0);
    private static readonly Instant August = Instant.FromUtc(2025, 8, 2, 0, 0);
    private static readonly Instant Known = Instant.FromUtc(2025, 8, 20, 9, 30);

    private static Money Usd(decimal amount) => new(amount, "USD");

    private static ChipHoursConsumed Consumed(string id, string chip, decimal hours, decimal amount, Instant start) =>
        new(id, "deal", "AWS", chip, "us-east-1", hours, start, start.Plus(Duration.FromHours(1)), null, Usd(amount / hours), Usd(amount), "provider", July);

    private static UsageFigures Figures(decimal hours, decimal amount, Instant start) =>
        new(hours, start, start.Plus(Duration.FromHours(1)), null, Usd(amount / hours), Usd(amount), "provider");

    private static readonly object[] History =
    [
        UsageEvents.Batch(
        [
            Consumed("late", "H100", 1m, 4m, July.Plus(Duration.FromDays(3))), Consumed("a", "H100", 2m, 8m, July),
            Consumed("b", "A100", 1m, 2m, July.Plus(Duration.FromDays(1))), Consumed("c", "H100", 1m, 4m, August),
        ], July),
        new UsageVoided("a", "deal", "AWS", "H100", "us-east-1", Figures(2m, 8m, July), "fault", August, "ops"),
        new UsageCorrected("late", "deal", "AWS", "H100", "us-east-1", Figures(1m, 4m, July.Plus(Duration.FromDays(3))), Figures(3m, 12m, August),
            "moved", August, "ops"),
    ];

    private static List<JasperFx.Events.IEvent> Events() =>
        History.Select((data, i) => (JasperFx.Events.IEvent)new JasperFx.Events.Event<object>(data) { Timestamp = Known.ToDateTimeOffset(), Sequence = i + 1, Id = Guid.NewGuid() })
            .ToList();

    [Fact]
    public void Entries_are_signed_per_record_a_correction_is_two_and_one_entry_per_event_and_figure_is_marked_first()
    {
        var entries = Events().SelectMany(e => UsageLineage.Entries(e.Data, e.Sequence, e.Id, Known)).ToList();

        entries.Select(e => $"{e.Sequence}.{e.Index} {e.UsageId} {e.Kind} {e.Delta.Amount.Amount} {Months.Of(e.Delta.CountedAt)}").ShouldBe(
        [
            "1.0 late Recorded 4 2025-07", "1.1 a Recorded 8 2025-07", "1.2 b Recorded 2 2025-07", "1.3 c Recorded 4 2025-08",
            "2.0 a Voided -8 2025-07",
            "3.0 late CorrectedFrom -4 2025-07", "3.1 late CorrectedTo 12 2025-08",
        ]);
        // The batch's first H100 entry of July is "a" (earliest valid time), not "late" (first in the batch).
        entries.Where(e => (e.Firsts & LineageEntry.FirstOfChipMonth) != 0).Select(e => $"{e.Sequence}.{e.Index}").ShouldBe(["1.1", "1.2", "1.3", "2.0", "3.0", "3.1"]);
        entries.Where(e => (e.Firsts & LineageEntry.FirstOfProviderMonth) != 0).Select(e => $"{e.Sequence}.{e.Index}").ShouldBe(["1.1", "1.3", "2.0", "3.0", "3.1"]);
        entries.Single(e => e.Kind == LineageKind.CorrectedTo).Delta.ValidAt.ShouldBe(July.Plus(Duration.FromDays(3)));
    }

    [Fact]
    public void The_counts_of_a_page_add_up_at_every_grain_to_the_entries_and_to_the_buckets()
    {
        var page = UsageLineageSlices.Fold(Events());
        var buckets = UsageBucketRows.Fold(Events()).Rows;

        foreach (var grain in UsageBucket.Delta.Grains)
        {
            var chipMonths = page.Counts.Where(c => c.Grain == grain && c.Figure == UsageLineageSlices.ChipMonth).ToList();
            chipMonths.Sum(c => c.Entries).ShouldBe(page.EntryCount);
            chipMonths.Sum(c => c.Amount).ShouldBe(buckets.Where(b => b.Grain == grain).Sum(b => b.Amount));
            foreach (var month in chipMonths.GroupBy(c => (c.Chip, c.MonthIndex)))
            {
                month.Sum(c => c.Amount).ShouldBe(buckets.Where(b => b.Grain == grain && b.Chip == month.Key.Chip && b.MonthIndex == month.Key.MonthIndex).Sum(b => b.Amount));
            }

            chipMonths.Where(c => c.Chip == "H100" && c.MonthIndex == Months.IndexOf(July)).Sum(c => c.Events).ShouldBe(3);
            page.Counts.Where(c => c.Grain == grain && c.Figure == UsageLineageSlices.ProviderMonth && c.MonthIndex == Months.IndexOf(August)).Sum(c => c.Events).ShouldBe(2);
        }
    }

    [Fact]
    public void A_batch_folds_record_by_record_into_the_same_slices_and_counts_as_through_its_entries()
    {
        var random = new Random(7);
        string[] chips = ["H100", "A100", "L40S"];
        var history = new List<object>();
        for (var b = 0; b < 40; b++)
        {
            // Records over two to three months, several per day and chip, starts repeated so that ties decide firsts.
            var records = Enumerable.Range(0, random.Next(1, 120)).Select(i => Consumed($"b{b}-{i}", chips[random.Next(chips.Length)],
                1m + random.Next(0, 40), random.Next(1, 5_000) / 100m, July.Plus(Duration.FromHours(random.Next(0, 24 * 50) / 2 * 2))))
                .Select((c, i) => i % 3 == 0 ? c with { Tokens = random.Next(0, 1_000_000) } : c).ToList();
            history.Add(UsageEvents.Batch(records, July));
            if (b % 5 == 0)
            {
                var r = records[0];
                history.Add(new UsageVoided(r.UsageId, "deal", "AWS", r.Chip, r.Region, Figures(r.ChipHours, r.Amount.Amount, r.Start), "fault", August, "ops"));
            }
        }

        var events = history.Select((data, i) => (JasperFx.Events.IEvent)new JasperFx.Events.Event<object>(data)
        {
            Timestamp = Known.Plus(Duration.FromHours(i * 7)).ToDateTimeOffset(), Sequence = i + 1, Id = Guid.NewGuid(),
        }).ToList();

        var fast = UsageLineageSlices.Fold(events);
        var defining = UsageLineageSlices.FoldPerEntry(events);

        fast.EntryCount.ShouldBe(defining.EntryCount);
        Described(fast.Slices).ShouldBe(Described(defining.Slices));
        Described(fast.Counts).ShouldBe(Described(defining.Counts));
        fast.Counts.Sum(c => c.Events).ShouldBeGreaterThan(40);
    }

    [Fact]
    public void The_deltas_on_instants_boundary_days_are_the_entries_the_days_hold()
    {
        var random = new Random(20261130);
        string[] chips = ["H100", "A100"];
        var events = new List<(object Data, Instant Known)>();
        var known = Known;
        for (var b = 0; b < 60; b++)
        {
            // Batches of records every 20 minutes over up to four days, recorded every few hours; voids, corrections and
            // single consumptions of older ledgers among them.
            known = known.Plus(Duration.FromMinutes(random.Next(1, 600)));
            var first = July.Plus(Duration.FromMinutes(20 * random.Next(0, 3 * 24 * 6)));
            var records = Enumerable.Range(0, random.Next(1, 300)).Select(i => Consumed($"b{b}-{i}", chips[random.Next(chips.Length)],
                1m + random.Next(0, 40), random.Next(1, 5_000) / 100m, first.Plus(Duration.FromMinutes(20 * random.Next(0, 300))))).ToList();
            events.Add((UsageEvents.Batch(records, known), known));
            var r = records[random.Next(records.Count)];
            events.Add(((b % 3) switch
            {
                0 => (object)new UsageVoided(r.UsageId, "deal", "AWS", r.Chip, r.Region, Figures(r.ChipHours, r.Amount.Amount, r.Start), "fault", known, "ops"),
                1 => new UsageCorrected(r.UsageId, "deal", "AWS", r.Chip, r.Region, Figures(r.ChipHours, r.Amount.Amount, r.Start),
                    Figures(r.ChipHours + 1, r.Amount.Amount + 1, r.Start.Plus(Duration.FromHours(30))), "moved", known, "ops"),
                _ => r,
            }, known));
        }

        var (total, kept) = (0, 0);
        for (var trial = 0; trial < 40; trial++)
        {
            // asOf and knownAt at any minute of the history's span, so every side of both boundary days is met.
            var asOf = July.Plus(Duration.FromMinutes(random.Next(0, 8 * 24 * 60)));
            var knownAt = Known.Plus(Duration.FromMinutes(random.Next(0, 60 * 310)));
            var days = new BoundaryDays(Nanos(DayStart(asOf)), Nanos(asOf), Nanos(DayStart(knownAt)), Nanos(knownAt));
            foreach (var (data, at) in events)
            {
                var expected = UsageLineage.Entries(data, 1, Guid.Empty, at).Select(e => e.Delta).Where(days.Holds).ToList();
                UsageLineage.BoundaryDeltas(data, at, days).ToList().ShouldBe(expected);
                (total, kept) = (total + UsageLineage.Entries(data, 1, Guid.Empty, at).Count, kept + expected.Count);
            }
        }

        // The instants picked some of the records, not none and not all.
        kept.ShouldBeInRange(total / 100, total / 2);
        return;

        static Instant DayStart(Instant i) => UsageLineage.DayStart(UsageBucket.DayOf(i));
        static long Nanos(Instant i) => UsageLineage.Nanos(i);
    }

    private static List<string> Described(IEnumerable<UsageLineageSlices.Slice> slices) =>
        [.. slices.Select(s => $"{s.Sequence} {s.EventId} {s.Provider} {s.Chip} {s.CommitmentId} {s.MonthIndex} {s.ValidFromDay}-{s.ValidToDay} {s.KnownNs} {s.Currency} {s.FirstIndex}-{s.LastIndex} {s.Entries} {s.Amount} {s.ChipHours} {s.Tokens} {s.TokenizedAmount} {s.Records}").Order(StringComparer.Ordinal)];

    private static List<string> Described(IEnumerable<UsageLineageSlices.CountRow> counts) =>
        [.. counts.Select(c => $"{c.Figure} {c.Provider} {c.Chip} {c.MonthIndex} {c.Grain} {c.ValidUnit} {c.KnownUnit} {c.Currency} {c.Entries} {c.Events} {c.Amount}").Order(StringComparer.Ordinal)];
}
