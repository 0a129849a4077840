using ComputeLedger.Host.Tests.Usage;
using Shouldly;

namespace ComputeLedger.Host.Tests.Faults;

/// <summary>
/// PostgreSQL goes away twice while clients are ingesting, once stopped cleanly and once killed (crash recovery on the
/// restart). The host keeps running and must answer 503 meanwhile; the clients retry every unacknowledged batch, and
/// afterwards the ledger holds each acknowledged record once and every figure agrees. The cluster is the test's own, so
/// stopping it disturbs no other test.
/// </summary>
public class Ingestion_survives_a_database_restart
{
    [Fact]
    public async Task Every_acknowledged_record_is_held_once_and_every_view_agrees_after_PostgreSQL_stops_twice_mid_ingestion()
    {
        var ct = TestContext.Current.CancellationToken;
        var bin = ThrowawayPostgres.FindBinaries();
        if (bin is null)
        {
            Assert.Skip("no PostgreSQL server binaries on this machine (PG_BIN or /usr/lib/postgresql/*/bin): the test needs a cluster of its own to stop");
        }

        await using var postgres = await ThrowawayPostgres.Start(bin, "ledger", ct);
        var database = postgres.ConnectionString("ledger");
        await using var host = await LedgerProcess.Start(database, LedgerProcess.FreePort(), ct);
        using var admin = host.Client("dev-admin");
        await UsageTest.ArrangeDealAndRates(admin);

        var ingestion = new RetryingIngestion(() => host.Address, batches: 40, batchSize: 100, concurrency: 3);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(TimeSpan.FromSeconds(240));
        var running = ingestion.Run(stop.Token);
        try
        {
            foreach (var (acknowledged, mode) in new[] { (10, "fast"), (25, "immediate") })
            {
                await RetryingIngestion.Until(() => ingestion.Acknowledged >= acknowledged || running.IsCompleted,
                    $"{acknowledged} batches acknowledged", TimeSpan.FromSeconds(90), ct);
                running.IsCompleted.ShouldBeFalse($"ingestion ended before PostgreSQL was stopped ({mode}): {running.Exception?.Message}");

                await postgres.Stop(mode, ct);
                // The outage must have hit ingestion: clients get 503s while the server is down, from a host still running.
                var refused = ingestion.ServiceUnavailable;
                await RetryingIngestion.Until(() => ingestion.ServiceUnavailable >= refused + 3 || running.IsCompleted,
                    "three attempts answered 503 while PostgreSQL is down", TimeSpan.FromSeconds(20), ct);
                running.IsCompleted.ShouldBeFalse($"ingestion ended while PostgreSQL was down: {running.Exception?.Message}");
                await postgres.StartAgain(ct);
            }

            await running;
            host.HasExited.ShouldBeFalse();
            ingestion.ConnectionErrors.ShouldBe(0, "the host stayed up, so every failed attempt must have been an answer (503)");
            using var analyst = host.Client("dev-analyst");
            await HeldExactlyOnce.Check(ingestion, analyst, database, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            throw new InvalidOperationException($"{e.Message}\nacknowledged {ingestion.Acknowledged} of {ingestion.Batches.Count}; " +
                $"unexpected answers: {string.Join(" | ", ingestion.Unexpected.Take(3))}\nhost log:\n{host.LogTail()}\nserver log:\n{postgres.LogTail()}", e);
        }
        finally
        {
            await stop.CancelAsync();
        }
    }
}
