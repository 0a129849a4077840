using ComputeLedger.Host.Commitments;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Commitments;
using Marten;
using Npgsql;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Host.Tests.Commitments;

/// <summary>
/// The ledger's detectors lock a Commitment stream with their own statement on Marten's mt_streams (see
/// <see cref="CommitmentStream.Lock"/>). It must hold the very row Marten's exclusive append locks, until the transaction
/// ends: a Marten upgrade that moves or renames that row fails here, not as a milestone decided twice.
/// </summary>
public class Locking_a_commitment_stream(LedgerFixture fixture) : LedgerTest(fixture)
{
    private static readonly Instant Now = Instant.FromUtc(2026, 1, 15, 9, 30);

    [Fact]
    public async Task Holds_the_row_Marten_locks_for_an_exclusive_append_until_the_transaction_ends()
    {
        var ct = TestContext.Current.CancellationToken;
        var usd = new Money(1m, "USD");
        var terms = new CommitmentTerms("locked", "Investor", "Partner", "AWS", "test", usd, usd, [], [], null);
        await using (var arrange = Fixture.Store.LightweightSession())
        {
            arrange.Events.StartStream<Commitment>("locked", new CommitmentOffered(terms, Now, "test"));
            await arrange.SaveChangesAsync(ct);
        }

        await using (var holder = Fixture.Store.LightweightSession())
        {
            await holder.BeginTransactionAsync(ct);
            await CommitmentStream.Lock(holder, "locked", ct);

            await using var contender = Fixture.Store.LightweightSession();
            await contender.BeginTransactionAsync(ct);
            await using (var timeout = ((NpgsqlConnection)contender.Connection!).CreateCommand())
            {
                timeout.CommandText = "set local lock_timeout = '500ms'";
                await timeout.ExecuteNonQueryAsync(ct);
            }

            var refused = await Should.ThrowAsync<Exception>(() => contender.Events.AppendExclusive("locked", ct, Declined()));
            LockTimeout(refused).ShouldBeTrue($"expected a lock timeout, got {refused}");
        }

        // The holder's transaction ended (rolled back with its session): Marten's exclusive append goes through.
        await using (var after = Fixture.Store.LightweightSession())
        {
            await after.Events.AppendExclusive("locked", ct, Declined());
            await after.SaveChangesAsync(ct);
        }

        await using var query = Fixture.Store.QuerySession();
        (await query.Events.FetchStreamStateAsync("locked", ct))!.Version.ShouldBe(2);
    }

    private static CommitmentDeclined Declined() => new("locked", null, "test", Now, "test");

    private static bool LockTimeout(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable })
            {
                return true;
            }
        }

        return false;
    }
}
