using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Usage;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>
/// The usage tables' text keys compare byte by byte and the daemon's upserted tables leave room for in-place updates,
/// on a new ledger and on one from before these settings, whose claims keep deduplicating; a second start changes nothing.
/// </summary>
public class Tuning_the_usage_keys(LedgerFixture fixture) : UsageTest(fixture)
{
    private const string KeyCollations = """
        select string_agg(c.relname || '.' || a.attname || '=' || l.collname, ' ' order by c.relname, a.attname)
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        join pg_collation l on l.oid = a.attcollation
        where n.nspname = 'ledger' and (c.relname, a.attname) in (('usage_claims', 'usage_id'), ('usage_buckets', 'id'),
            ('usage_lineage_slice_counts', 'figure'), ('usage_lineage_slice_counts', 'provider'), ('usage_lineage_slice_counts', 'chip'),
            ('usage_lineage_slice_counts', 'grain'), ('usage_lineage_slice_counts', 'currency'))
        """;

    private const string FillFactors = """
        select string_agg(relname || '=' || coalesce(array_to_string(reloptions, ','), ''), ' ' order by relname)
        from pg_class where relnamespace = 'ledger'::regnamespace and relname in ('usage_buckets', 'usage_lineage_slice_counts')
        """;

    private const string Tuned = "usage_buckets.id=C usage_claims.usage_id=C usage_lineage_slice_counts.chip=C usage_lineage_slice_counts.currency=C "
        + "usage_lineage_slice_counts.figure=C usage_lineage_slice_counts.grain=C usage_lineage_slice_counts.provider=C";

    [Fact]
    public async Task A_started_ledger_has_byte_ordered_keys_and_room_for_in_place_updates()
    {
        (await Sql(KeyCollations)).ShouldBe(Tuned);
        (await Sql(FillFactors)).ShouldBe("usage_buckets=fillfactor=50 usage_lineage_slice_counts=fillfactor=50");
    }

    [Fact]
    public async Task A_ledger_from_before_is_tuned_at_start_up_and_keeps_recognising_its_claims()
    {
        (await Post(Record("before-1", 2m))).Json["accepted"]!.GetValue<int>().ShouldBe(1);
        // What an earlier release left: keys under the database's collation, default storage settings.
        await Sql("""
            alter table ledger.usage_claims alter column usage_id type text collate "default";
            alter table ledger.usage_buckets alter column id type text collate "default", reset (fillfactor);
            alter table ledger.usage_lineage_slice_counts alter column figure type text collate "default",
                alter column provider type text collate "default", alter column chip type text collate "default",
                alter column grain type text collate "default", alter column currency type text collate "default", reset (fillfactor);
            """);
        (await Sql(KeyCollations)).ShouldBe(Tuned.Replace("=C", "=default", StringComparison.Ordinal));

        await new UsageKeyTuning().Populate(Fixture.Store, TestContext.Current.CancellationToken);

        (await Sql(KeyCollations)).ShouldBe(Tuned);
        (await Sql(FillFactors)).ShouldBe("usage_buckets=fillfactor=50 usage_lineage_slice_counts=fillfactor=50");
        var reply = await Post(Record("before-1", 2m), Record("after-1", 1m));
        reply.Json["accepted"]!.GetValue<int>().ShouldBe(1);
        reply.Json["duplicates"]!.GetValue<int>().ShouldBe(1);

        // Tuned already: nothing is altered again (an altered key would have its index rebuilt into a new file).
        var index = await Sql("select relfilenode from pg_class where relname = 'usage_claims_pkey'");
        await new UsageKeyTuning().Populate(Fixture.Store, TestContext.Current.CancellationToken);
        (await Sql("select relfilenode from pg_class where relname = 'usage_claims_pkey'")).ShouldBe(index);
    }
}
