using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Usage.Ingesting;
using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Usage;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>
/// Tokens are at most 10^15 per record, but a month of such records passes the range of long (and of bigint) after
/// about 9,200 of them. Every view of tokens keeps the exact sum: the chip-spend documents and the time-travel buckets.
/// </summary>
public class Summing_token_totals_past_long(LedgerFixture fixture) : LedgerTest(fixture)
{
    private const long MaxTokens = 1_000_000_000_000_000;

    [Fact]
    public async Task Ten_thousand_records_of_the_largest_token_count_sum_exactly_now_and_as_of()
    {
        var recordedAt = Instant.FromUtc(2025, 8, 1, 0, 0);
        Fixture.Time.Pinned = recordedAt.ToDateTimeOffset();
        var events = Enumerable.Range(0, 10_000).Select(i => new ChipHoursConsumed($"tok-{i}", "amazon-anthropic", "AWS", "Trainium2",
            "us-east-1", 1m, Instant.FromUtc(2025, 7, 1, 0, 0), Instant.FromUtc(2025, 7, 1, 1, 0), MaxTokens, new Money(3.5m, "USD"),
            new Money(3.5m, "USD"), "provider card AWS from 2025-01-01", recordedAt)).ToList();
        await using (var session = Fixture.Store.LightweightSession())
        {
            // Two streams, so the daemon folds them over several pages and the bucket table adds page upon page.
            UsageStreams.Start(session, [("usage:tokens-a", events[..5_000]), ("usage:tokens-b", events[5_000..])], recordedAt);
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        Fixture.Time.Pinned = null;
        await CatchUp();

        var now = await Analyst.GetJson("/api/spend/chips?from=2025-07&to=2025-07");
        now.Code.ShouldBe(200, now.ToString());
        now.Json["rows"]![0]!["tokens"]!.GetValue<decimal>().ShouldBe(10_000_000_000_000_000_000m);

        var asOf = await Analyst.GetJson("/api/spend/chips?from=2025-07&to=2025-07&asOf=2025-08-01&knownAt=2025-08-02");
        asOf.Code.ShouldBe(200, asOf.ToString());
        asOf.Json["rows"]![0]!["tokens"]!.GetValue<decimal>().ShouldBe(10_000_000_000_000_000_000m);
        (await Sql("select sum(tokens)::text from ledger.usage_buckets where grain = 'mm'")).ShouldBe("10000000000000000000");
    }

    [Fact]
    public async Task A_bucket_table_made_with_bigint_tokens_is_altered_to_numeric_on_startup_keeping_its_rows()
    {
        var database = await Fixture.NewDatabase();
        await using (await LedgerFixture.StartHost(database))
        {
            // The table as the previous release created it.
            await Execute(database, """
                alter table ledger.usage_buckets alter column tokens type bigint;
                insert into ledger.usage_buckets values ('old', 'AWS', 'Trainium2', 'c', '2025-07', 24306, 'mm', 24306, 24306, 'USD', 1, 3.5, 42, 3.5, 1);
                """);
        }

        (await Execute(database, "select data_type from information_schema.columns where table_schema = 'ledger' and table_name = 'usage_buckets' and column_name = 'tokens'"))
            .ShouldBe("bigint");

        await using (await LedgerFixture.StartHost(database))
        {
            (await Execute(database, "select data_type from information_schema.columns where table_schema = 'ledger' and table_name = 'usage_buckets' and column_name = 'tokens'"))
                .ShouldBe("numeric");
            (await Execute(database, "select tokens::text from ledger.usage_buckets where id = 'old'")).ShouldBe("42");
        }
    }

    private static async Task<object?> Execute(string connectionString, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
    }
}
