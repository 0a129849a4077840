using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Daemon;

namespace ComputeLedger.Host.Usage;

public static class Configuration
{
    /// <summary>The async projection (a composite) behind chip spend, provider revenue and drawdown.</summary>
    public const string UsageProjection = "Usage";

    /// <summary>The async projection that keeps the bitemporal usage buckets.</summary>
    public const string BucketProjection = UsageBucketRows.ProjectionName;

    /// <summary>The async projection that keeps the lineage rows and the figures' counts.</summary>
    public const string LineageProjection = UsageLineageSlices.ProjectionName;

    public static StoreOptions AddUsage(this StoreOptions options)
    {
        // One event per record until batches; still loaded and folded wherever a ledger holds them.
        options.Events.MapEventType<ChipHoursConsumed>("chip_hours_consumed");
        options.Events.MapEventType<UsageRecorded>(LineageEntry.RecordedType);
        options.Events.MapEventType<UsageVoided>("usage_voided");
        options.Events.MapEventType<UsageCorrected>("usage_corrected");

        // Async: millions of usage events fold into a few thousand rows; ingestion must not wait for them. One composite,
        // so the daemon reads and deserializes each usage event once for all four: chip spend, provider revenue, drawdown
        // and the time-travel buckets (rows of a plain table, added to with one upsert per page; a rebuild empties the
        // table first). Each keeps its own progress mark, which time-travel reads use to fold the tail the buckets lack.
        // Pages of 500 events: a usage event is a batch of up to 1,000 records, so a page of 5,000 events could hold
        // millions of records in memory (690 MiB RSS and a 28 s catch-up were seen); 500 keeps a page under ~500,000
        // records while its upserts stay few and large.
        options.Storage.ExtendedSchemaObjects.Add(UsageBucketRows.Table(options.DatabaseSchemaName));
        options.Storage.ExtendedSchemaObjects.Add(UsageLineageSlices.Table(options.DatabaseSchemaName));
        options.Storage.ExtendedSchemaObjects.Add(UsageLineageSlices.CountsTable(options.DatabaseSchemaName));
        options.Projections.CompositeProjectionFor(UsageProjection, composite =>
        {
            composite.Add<ChipSpendProjection>();
            composite.Add<ProviderRevenueProjection>();
            composite.Add<DrawdownProjection>();
            composite.Add(new UsageBucketRows(options.DatabaseSchemaName, options.Events.TimeProvider ?? TimeProvider.System),
                o => o.DeleteDataInTableOnTeardown($"{options.DatabaseSchemaName}.{UsageBucketRows.TableName}"));
            // Lineage: one row per event slice (an event's entries of one chip-month, commitment, valid month and known
            // time: paged explain, bounded restatements, the boundary days of instant axes) and per-figure counts; one
            // insert and one upsert per page. Its own progress mark, like the buckets'.
            composite.Add(new UsageLineageSlices(options.DatabaseSchemaName), o =>
            {
                o.DeleteDataInTableOnTeardown($"{options.DatabaseSchemaName}.{UsageLineageSlices.TableName}");
                o.DeleteDataInTableOnTeardown($"{options.DatabaseSchemaName}.{UsageLineageSlices.CountsTableName}");
            });
            composite.Options.BatchSize = 500;
        });

        // The hourly sums of each closed known day, written by DayClose in the background, read by instant axes.
        options.Storage.ExtendedSchemaObjects.Add(KnownDayHours.Table(options.DatabaseSchemaName));
        options.Storage.ExtendedSchemaObjects.Add(KnownDayHours.ClosedTable(options.DatabaseSchemaName));

        // The idempotency claim of every usageId ever accepted, written in the same transaction as its event.
        options.Storage.ExtendedSchemaObjects.Add(UsageClaims.Table(options.DatabaseSchemaName));
        return options;
    }
}
