using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Tests.Usage;
using Shouldly;

namespace ComputeLedger.Host.Tests.Faults;

/// <summary>
/// The host process is killed with SIGKILL twice while clients are ingesting, and a new one is started on the same
/// database each time. Batches in flight at the kill lose their answer (their transaction may or may not
/// have committed); the clients retry every unacknowledged batch, and afterwards the ledger holds each acknowledged record
/// once, a retry of a committed batch counts as duplicates, and every figure agrees once the new host's daemon caught up.
/// </summary>
public class Ingestion_survives_a_killed_host(LedgerFixture fixture)
{
    [Fact]
    public async Task Every_acknowledged_record_is_held_once_and_every_view_agrees_after_the_host_is_killed_twice_mid_ingestion()
    {
        var ct = TestContext.Current.CancellationToken;
        var database = await fixture.NewDatabase();
        var host = await LedgerProcess.Start(database, LedgerProcess.FreePort(), ct);
        // Clients follow the host to its new address once it is up (a port left free for seconds may be taken by then).
        var ingestion = new RetryingIngestion(() => host.Address, batches: 40, batchSize: 100, concurrency: 3);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(TimeSpan.FromSeconds(240));
        try
        {
            using (var admin = host.Client("dev-admin"))
            {
                await UsageTest.ArrangeDealAndRates(admin);
            }

            var running = ingestion.Run(stop.Token);
            foreach (var acknowledged in new[] { 12, 26 })
            {
                await RetryingIngestion.Until(() => ingestion.Acknowledged >= acknowledged || running.IsCompleted,
                    $"{acknowledged} batches acknowledged", TimeSpan.FromSeconds(90), ct);
                running.IsCompleted.ShouldBeFalse($"ingestion ended before the host was killed: {running.Exception?.Message}");

                await host.Kill();
                // The kill must have hit ingestion: clients find nobody at the address until the new host is up.
                var unanswered = ingestion.ConnectionErrors;
                await RetryingIngestion.Until(() => ingestion.ConnectionErrors >= unanswered + 3 || running.IsCompleted,
                    "three attempts unanswered after the kill", TimeSpan.FromSeconds(20), ct);
                running.IsCompleted.ShouldBeFalse($"ingestion ended while no host was running: {running.Exception?.Message}");
                await host.DisposeAsync();
                host = await LedgerProcess.Start(database, LedgerProcess.FreePort(), ct);
            }

            await running;
            using var analyst = host.Client("dev-analyst");
            await HeldExactlyOnce.Check(ingestion, analyst, database, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            throw new InvalidOperationException($"{e.Message}\nacknowledged {ingestion.Acknowledged} of {ingestion.Batches.Count}; " +
                $"unexpected answers: {string.Join(" | ", ingestion.Unexpected.Take(3))}\nhost log:\n{host.LogTail()}", e);
        }
        finally
        {
            await stop.CancelAsync();
            await host.DisposeAsync();
        }
    }
}
