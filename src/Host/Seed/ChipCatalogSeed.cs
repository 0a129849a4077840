using ComputeLedger.Host.Catalog;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Projections.Catalog;
using Marten;
using Marten.Schema;

namespace ComputeLedger.Host.Seed;

public sealed record ChipCatalogData(List<AddChipRequest> Chips);

/// <summary>
/// The chip catalog every ledger starts with (Seed/chips.json), added through the same endpoint admins use, only for
/// chips not yet there. Marten runs it at start-up and again after a data reset.
/// </summary>
public sealed class ChipCatalogSeed(IClock clock) : IInitialData
{
    private static readonly Caller Seeder = new("catalog-seed", ApiRole.Admin, null);

    public async Task Populate(IDocumentStore store, CancellationToken cancellation)
    {
        var catalog = await DemoDataSeeder.Load<ChipCatalogData>("chips.json", cancellation);
        foreach (var chip in catalog.Chips)
        {
            await using var session = store.LightweightSession();
            if (await session.Events.FetchStreamStateAsync(ChipView.StreamOf(chip.Name!), cancellation) is null)
            {
                await ChipEndpoints.Add(chip, session, clock, Seeder.ToPrincipal(), cancellation);
            }
        }
    }
}
