using ComputeLedger.Samples.TreasuryNotifier;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ComputeLedger.Host.Tests.Integration;

/// <summary>The sample treasury consumer, run in-process against a test database: the "consumer" the reliability tests count effects at.</summary>
public sealed class Treasury : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _connectionString;

    private Treasury(IHost host, string connectionString)
    {
        _host = host;
        _connectionString = connectionString;
    }

    public ReceivedLog Log => _host.Services.GetRequiredService<ReceivedLog>();

    public static async Task<Treasury> Start(string connectionString, string? rabbitMq = null, string rabbitQueue = "treasury-tests")
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Treasury:Postgres"] = connectionString,
            ["Treasury:RabbitMq"] = rabbitMq,
            ["Treasury:RabbitQueue"] = rabbitQueue,
        });
        builder.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Warning);
        builder.UseTreasuryNotifier(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        return new Treasury(host, connectionString);
    }

    /// <summary>The effects: rows in treasury.received, as (type, message id), for one commitment.</summary>
    public async Task<List<(string Type, Guid Id)>> Received(string commitmentId)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("select to_regclass('treasury.received') is not null", connection);
        if (!(bool)(await exists.ExecuteScalarAsync())!)
        {
            return [];
        }

        await using var command = new NpgsqlCommand("select type, message_id from treasury.received where commitment_id = $1 order by received_at, type", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = commitmentId });
        var rows = new List<(string, Guid)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetGuid(1)));
        }

        return rows;
    }

    /// <summary>Polls until <paramref name="done"/> holds for the commitment's effects, or fails after the timeout.</summary>
    public async Task<List<(string Type, Guid Id)>> WaitFor(string commitmentId, Func<List<(string Type, Guid Id)>, bool> done, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var rows = await Received(commitmentId);
            if (done(rows))
            {
                return rows;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The treasury received only [{string.Join(", ", rows.Select(r => r.Type))}] for '{commitmentId}' within {seconds}s.");
            }

            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
