using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Projections.Catalog;
using JasperFx.Events.Projections;
using Marten;

namespace ComputeLedger.Host.Catalog;

public static class Configuration
{
    public static StoreOptions AddCatalog(this StoreOptions options)
    {
        options.Events.MapEventType<ChipAdded>("chip_added");
        options.Events.MapEventType<ChipSpecsPublished>("chip_specs_published");
        options.Events.MapEventType<RateCardPublished>("rate_card_published");

        // Inline: tiny reference data that every ingest batch reads back immediately.
        options.Projections.Add<ChipViewProjection>(ProjectionLifecycle.Inline);
        options.Projections.Add<RateBookProjection>(ProjectionLifecycle.Inline);
        return options;
    }
}
