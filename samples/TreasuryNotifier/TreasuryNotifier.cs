using ComputeLedger.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Postgresql;
using Wolverine.RabbitMQ;

namespace ComputeLedger.Samples.TreasuryNotifier;

/// <summary>
/// Treasury's view of the ledger: every integration event it receives is recorded once in treasury.received, keyed by the
/// message's stable id. The insert is the deduplication: a redelivered message (same id) inserts nothing and notifies
/// no one, so each fact has exactly one effect however often the transport hands it over.
/// </summary>
public static class TreasuryNotifierSetup
{
    /// <summary>
    /// The ledger's database, chosen as ./ledger chooses it: Treasury:Postgres when given, else LEDGER_POSTGRES, else
    /// run.sh's local cluster on 127.0.0.1 at LEDGER_PG_PORT (default 55432).
    /// </summary>
    public static string LedgerDatabase(IConfiguration configuration)
    {
        if (configuration["Treasury:Postgres"] is { Length: > 0 } explicitly)
        {
            return explicitly;
        }

        if (Environment.GetEnvironmentVariable("LEDGER_POSTGRES") is { Length: > 0 } ledger)
        {
            return ledger;
        }

        var port = Environment.GetEnvironmentVariable("LEDGER_PG_PORT") is { Length: > 0 } p ? p : "55432";
        if (!int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            throw new InvalidOperationException($"LEDGER_PG_PORT must be a TCP port (1-65535); got '{port}'.");
        }

        return $"Host=127.0.0.1;Port={number};Username=postgres;Database=ledger";
    }

    public static IHostApplicationBuilder UseTreasuryNotifier(this IHostApplicationBuilder builder, IConfiguration configuration)
    {
        var postgres = LedgerDatabase(configuration);
        // Made by the container, so the container disposes it with the host.
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(postgres));
        builder.Services.AddSingleton<ReceivedLog>();
        builder.UseWolverine(options =>
        {
            options.ApplicationAssembly = typeof(TreasuryNotifierSetup).Assembly;
            options.Durability.Mode = DurabilityMode.Solo;
            // A database hiccup is retried; only a message that keeps failing is parked in the dead-letter table.
            options.Policies.OnException<NpgsqlException>().RetryWithCooldown(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1))
                .Then.MoveToErrorQueue();

            // The treasury's own inbox lives in its own schema; the queue tables are the ledger's (schema wolverine_queues).
            options.UsePostgresqlPersistenceAndTransport(postgres, "treasury").AutoProvision();
            if (configuration["Treasury:RabbitMq"] is { Length: > 0 } rabbit)
            {
                options.UseRabbitMq(new Uri(rabbit)).AutoProvision();
                options.ListenToRabbitQueue(configuration["Treasury:RabbitQueue"] ?? "treasury", queue => queue.BindExchange("ledger-events"))
                    .UseDurableInbox();
            }
            else
            {
                options.ListenToPostgresqlQueue(configuration["Treasury:Queue"] ?? "ledger_events").UseDurableInbox();
            }
        });
        return builder;
    }
}

/// <summary>What the treasury received: one row per stable message id.</summary>
public sealed class ReceivedLog(NpgsqlDataSource database, ILogger<ReceivedLog> logger) : IDisposable
{
    private readonly SemaphoreSlim _creating = new(1, 1);
    private volatile bool _created;
    private int _ignored;

    public void Dispose() => _creating.Dispose();

    /// <summary>How many deliveries were recognised as already recorded, since start.</summary>
    public int Ignored => Volatile.Read(ref _ignored);

    /// <summary>Records the event; false when its id was already recorded (a redelivery or a duplicate publish).</summary>
    public async Task<bool> Record(ILedgerIntegrationEvent message, string summary, CancellationToken ct)
    {
        if (!_created)
        {
            await _creating.WaitAsync(ct);
            try
            {
                // The advisory lock keeps two consumer processes from racing on the DDL.
                await using var create = database.CreateCommand("""
                    begin;
                    select pg_advisory_xact_lock(7001);
                    create schema if not exists treasury;
                    create table if not exists treasury.received (
                        message_id uuid primary key, type text not null, commitment_id text not null,
                        summary text not null, received_at timestamptz not null default now());
                    commit;
                    """);
                await create.ExecuteNonQueryAsync(ct);
                _created = true;
            }
            finally
            {
                _creating.Release();
            }
        }

        await using var insert = database.CreateCommand(
            "insert into treasury.received (message_id, type, commitment_id, summary) values ($1, $2, $3, $4) on conflict (message_id) do nothing");
        insert.Parameters.Add(new NpgsqlParameter { Value = message.Id });
        insert.Parameters.Add(new NpgsqlParameter { Value = message.GetType().Name });
        insert.Parameters.Add(new NpgsqlParameter { Value = message.CommitmentId });
        insert.Parameters.Add(new NpgsqlParameter { Value = summary });
        var recorded = await insert.ExecuteNonQueryAsync(ct) == 1;
        if (recorded)
        {
            logger.LogInformation("Treasury: {Summary}", summary);
        }
        else
        {
            Interlocked.Increment(ref _ignored);
            logger.LogInformation("Treasury: already had {Type} {Id}; ignored", message.GetType().Name, message.Id);
        }

        return recorded;
    }
}

public static class TreasuryHandler
{
    public static Task Handle(TrancheBecameEligible m, ReceivedLog log, CancellationToken ct) =>
        log.Record(m, $"tranche '{m.TrancheId}' of '{m.CommitmentId}' is payable: {m.Amount.Amount:N0} {m.Amount.Currency} (eligible on {m.EligibleOn:yyyy-MM-dd})", ct);

    public static Task Handle(TrancheReleased m, ReceivedLog log, CancellationToken ct) =>
        log.Record(m, $"tranche '{m.TrancheId}' of '{m.CommitmentId}' was paid: {m.Amount.Amount:N0} {m.Amount.Currency} on {m.ReleasedOn:yyyy-MM-dd}", ct);

    public static Task Handle(MilestoneAchieved m, ReceivedLog log, CancellationToken ct) =>
        log.Record(m, $"milestone '{m.MilestoneId}' of '{m.CommitmentId}' achieved on {m.AchievedOn:yyyy-MM-dd} ({m.Kind})", ct);

    public static Task Handle(CommitmentSigned m, ReceivedLog log, CancellationToken ct) =>
        log.Record(m, $"'{m.CommitmentId}' signed on {m.SignedOn:yyyy-MM-dd}: {m.UpfrontReleased.Amount:N0} {m.UpfrontReleased.Currency} upfront", ct);

    public static Task Handle(CommitmentDeclined m, ReceivedLog log, CancellationToken ct) =>
        log.Record(m, $"'{m.CommitmentId}' was declined", ct);

    public static Task Handle(DrawdownThresholdCrossed m, ReceivedLog log, CancellationToken ct) =>
        log.Record(m, $"'{m.CommitmentId}' has drawn down {m.Percent}% of {m.Committed.Amount:N0} {m.Committed.Currency} (on {m.CrossedOn:yyyy-MM-dd})", ct);
}
