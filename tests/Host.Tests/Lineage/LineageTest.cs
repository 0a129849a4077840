using System.Text.Json.Nodes;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Tests.Usage;
using ComputeLedger.Projections.Usage;
using Marten;
using Marten.Events;
using Shouldly;

namespace ComputeLedger.Host.Tests.Lineage;

/// <summary>Usage recorded at pinned known times, the naive fold to compare with, and a figure's lineage read page by page.</summary>
public abstract class LineageTest(LedgerFixture fixture) : UsageTest(fixture)
{
    protected override DateTimeOffset? ArrangedAt => new DateTimeOffset(2025, 1, 2, 9, 0, 0, TimeSpan.Zero);

    protected async Task At(string instant, Func<Task<Http.Reply>> act)
    {
        Fixture.Time.Pinned = DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture);
        var reply = await act();
        Fixture.Time.Pinned = null;
        reply.Code.ShouldBe(200, reply.ToString());
    }

    /// <summary>The old exact path: every usage event recorded before knownAt folded from scratch, keeping facts valid before asOf.</summary>
    protected async Task<UsageViews> Replay(string? asOf, string? knownAt)
    {
        var axes = TimeAxes.Parse(asOf, knownAt).Axes!;
        await using var session = Fixture.Host.DocumentStore().QuerySession();
        var events = await session.RecordedBefore(axes.KnownBefore, RecordedEvents.Usage).OrderBy(e => e.Sequence).ToListAsync(TestContext.Current.CancellationToken);
        return UsageReplay.Fold(events.Select(e => e.Data), axes.ValidBefore);
    }

    /// <summary>Every page of a lineage, following next; the first page's figure and counts, and all records in order.</summary>
    protected async Task<(JsonNode First, List<JsonNode> Records, int Pages)> AllPages(string path, string axes, int limit)
    {
        var records = new List<JsonNode>();
        JsonNode? first = null;
        string? next = null;
        var pages = 0;
        do
        {
            var url = $"{path}?limit={limit}&{axes}{(next is null ? "" : $"&after={Uri.EscapeDataString(next)}")}";
            var reply = await Analyst.GetJson(url);
            reply.Code.ShouldBe(200, reply.ToString());
            first ??= reply.Json;
            var page = reply.Json["records"]!.AsArray();
            page.Count.ShouldBeLessThanOrEqualTo(limit);
            records.AddRange(page.Select(r => r!));
            next = reply.Json["next"]?.GetValue<string>();
            pages++;
            pages.ShouldBeLessThan(1000);
        }
        while (next is not null);

        return (first!, records, pages);
    }
}
