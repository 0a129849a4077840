using Marten;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ComputeLedger.Host.Infrastructure;

/// <summary>Ready means the database answers a query, nothing less.</summary>
public sealed class DatabaseHealthCheck(IDocumentStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = store.Storage.Database.CreateConnection();
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "select 1";
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy("PostgreSQL answers.");
        }
#pragma warning disable CA1031 // A health check reports any failure to reach PostgreSQL (socket, timeout, auth, pool) as Unhealthy.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return HealthCheckResult.Unhealthy("PostgreSQL does not answer.", e);
        }
    }
}
