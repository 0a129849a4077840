using Marten;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ComputeLedger.Host.Operations;

public static class Configuration
{
    public const string ReadyTag = "ready";

    /// <summary>One event that cannot be applied is skipped and kept as a dead letter; it never stops a projection.</summary>
    public static StoreOptions AddDeadLetters(this StoreOptions options)
    {
        // Continuous runs: Marten's default, stated because the ledger relies on it.
        options.Projections.Errors.SkipApplyErrors = true;
        // Rebuilds too (Marten's default is to fail): the repair of a poisoned database is a rebuild over the same log.
        options.Projections.RebuildErrors.SkipApplyErrors = true;
        return options;
    }

    /// <summary>/health/ready: the database answers. /health: that, and no unresolved dead letter (else Degraded, still 200).</summary>
    public static IHealthChecksBuilder AddLedgerHealth(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<Infrastructure.DatabaseHealthCheck>("postgres", tags: [ReadyTag])
            .AddCheck<DeadLetterHealthCheck>("dead-letters");
}
