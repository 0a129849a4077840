using Alba;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry.Trace;
using Testcontainers.PostgreSql;

[assembly: AssemblyFixture(typeof(ComputeLedger.Host.Tests.Infrastructure.LedgerFixture))]

namespace ComputeLedger.Host.Tests.Infrastructure;

/// <summary>
/// One real PostgreSQL and one host for the whole run. The server comes from LEDGER_TEST_POSTGRES (test.sh starts a
/// throwaway local cluster there when no Docker engine answers) or else from Testcontainers. Each run gets a fresh
/// database, so nothing leaks between runs; tests reset the data they touch.
/// </summary>
public sealed class LedgerFixture : IAsyncLifetime
{
    private PostgreSqlContainer? _container;
    private string _serverConnection = "";

    public IAlbaHost Host { get; private set; } = null!;

    public string ConnectionString { get; private set; } = "";

    public HttpClient Client(string? apiKey = "dev-admin")
    {
        var client = Host.Server.CreateClient();
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    public IDocumentStore Store => Host.Services.GetRequiredService<IDocumentStore>();

    /// <summary>The clock of <see cref="Host"/>: pin it to record events at a chosen known time.</summary>
    public TestTime Time { get; } = new();

    /// <summary>The spans of the traces tests watch, from <see cref="Host"/>'s tracer provider.</summary>
    public TraceCollector Traces { get; } = new();

    public async ValueTask InitializeAsync()
    {
        _serverConnection = Environment.GetEnvironmentVariable("LEDGER_TEST_POSTGRES") ?? await StartContainer();

        ConnectionString = await NewDatabase();
        Host = await StartHost(ConnectionString, time: Time,
            services: services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddProcessor(Traces)));
    }

    /// <summary>A host on the given database, configured as ./run.sh would be but without the demo data.</summary>
    public static Task<IAlbaHost> StartHost(string connectionString, bool seedDemoData = false, TimeProvider? time = null,
        IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null) =>
        AlbaHost.For<Program>(builder =>
        {
            if (services is not null)
            {
                builder.ConfigureServices(services);
            }

            if (time is not null)
            {
                builder.ConfigureServices(services => services.AddSingleton(time));
            }

            builder.UseEnvironment("Development");
            // Host settings reach Program before it reads its configuration (app configuration would come too late
            // for what is decided while building: daemon mode, durability mode, transports).
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["LEDGER_POSTGRES"] = connectionString,
                ["Ledger:SeedDemoData"] = seedDemoData ? "true" : "false",
                // Webhook retries in tests wait fractions of a second, not minutes.
                ["Ledger:Webhooks:BackoffSeconds"] = "0.2,0.2,0.2,0.2,0.2",
                // Deadlines and drawdown marks are checked when a test says so (CommitmentWatch.RunOnce), not on a timer.
                ["Ledger:WatchSeconds"] = "0",
                // Known days are closed when a test says so (KnownDayHours.CloseDue), not on a timer.
                ["Ledger:DayCloseSeconds"] = "0",
            }));
        });

    /// <summary>A fresh, empty database on the test server, for tests that run several hosts of their own.</summary>
    public async Task<string> NewDatabase()
    {
        var database = $"ledger_test_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(_serverConnection))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"create database {database}", admin);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(_serverConnection) { Database = database }.ConnectionString;
    }

    private async Task<string> StartContainer()
    {
        _container = new PostgreSqlBuilder("postgres:15-alpine").Build();
        await _container.StartAsync();
        return _container.GetConnectionString();
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }
}
