using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Usage;
using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Usage;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>
/// The claim's savepoint goes out with the COPY rather than as a round trip of its own, and still undoes a COPY that
/// met a claimed id, so the ids still free are claimed in the same transaction.
/// </summary>
public class Claiming_usage(LedgerFixture fixture) : UsageTest(fixture)
{
    [Fact]
    public async Task The_claim_savepoint_rides_with_the_copy_and_undoes_a_clash()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var first = Fixture.Store.LightweightSession())
        {
            await first.BeginTransactionAsync(ct);
            // Found, so the savepoint is prepended to the COPY; null would mean Marten moved its transaction.
#pragma warning disable CA2000 // the session owns its transaction and disposes it
            UsageClaims.OpenTransaction(first).ShouldNotBeNull().Connection.ShouldBeSameAs(first.Connection);
#pragma warning restore CA2000
            await using var claiming = await UsageClaims.Open(first, ct);
            (await UsageClaims.Claim(claiming, [Claim("claim-b"), Claim("claim-a")], ct)).ShouldBeNull();
            // A change of its own, so that Marten commits (with nothing pending it would not).
            first.QueueSqlCommand("select 1");
            await first.SaveChangesAsync(ct);
        }

        await using (var second = Fixture.Store.LightweightSession())
        {
            await second.BeginTransactionAsync(ct);
            // The COPY fails on claim-b; rolling back to the savepoint (which must exist) lets the free ids in.
            await using var claiming = await UsageClaims.Open(second, ct);
            var claimed = await UsageClaims.Claim(claiming, [Claim("claim-c"), Claim("claim-b"), Claim("claim-d")], ct);
            claimed.ShouldNotBeNull().OrderBy(id => id, StringComparer.Ordinal).ShouldBe(["claim-c", "claim-d"]);
            second.QueueSqlCommand("select 1");
            await second.SaveChangesAsync(ct);
        }

        (await Sql("select string_agg(usage_id, ',' order by usage_id) from ledger.usage_claims where usage_id like 'claim-%'"))
            .ShouldBe("claim-a,claim-b,claim-c,claim-d");
    }

    [Fact]
    public async Task A_claim_opened_and_never_written_leaves_its_transaction_usable()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var session = Fixture.Store.LightweightSession())
        {
            await session.BeginTransactionAsync(ct);
            // Every record of a batch rejected: the COPY opened ahead of the judging is cancelled and undone.
            await (await UsageClaims.Open(session, ct)).DisposeAsync();
            await using var claiming = await UsageClaims.Open(session, ct);
            (await UsageClaims.Claim(claiming, [Claim("after-unused")], ct)).ShouldBeNull();
            session.QueueSqlCommand("select 1");
            await session.SaveChangesAsync(ct);
        }

        (await Sql("select count(*) from ledger.usage_claims where usage_id = 'after-unused'")).ShouldBe(1L);
    }

    [Fact]
    public async Task A_connection_lost_mid_claim_is_reported_as_the_transient_fault_it_is()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var session = Fixture.Store.LightweightSession();
        await session.BeginTransactionAsync(ct);
        await using var claiming = await UsageClaims.Open(session, ct);
        // The database ends the backend under the open COPY (a restart, a failover); the rows then find no one to take them.
        await Sql($"select pg_terminate_backend({((Npgsql.NpgsqlConnection)session.Connection!).ProcessID})");
        var claims = Enumerable.Range(0, 5_000).Select(i => Claim($"lost-{i:D5}")).ToList();

        // A transient NpgsqlException (which the API answers with 503, retry), not the failure of cancelling a COPY
        // the lost connection had already ended.
        (await Should.ThrowAsync<Npgsql.NpgsqlException>(() => UsageClaims.Claim(claiming, claims, ct))).IsTransient.ShouldBeTrue();
        (await Sql("select count(*) from ledger.usage_claims where usage_id like 'lost-%'")).ShouldBe(0L);
    }

    private static UsageClaim Claim(string usageId)
    {
        var start = Instant.FromUtc(2025, 7, 1, 0, 0);
        var record = new ChipHoursConsumed(usageId, "amazon-anthropic", "AWS", "Trainium2", "us-east-1", 1m, start, start + Duration.FromHours(1),
            null, new Money(3.5m, "USD"), new Money(3.5m, "USD"), "provider card AWS from 2025-01-01", start);
        return new UsageClaim(record, "fingerprint-" + usageId, "usage:amazon-anthropic:test");
    }
}
