using Marten;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ComputeLedger.Host.Operations;

/// <summary>
/// Degraded (the ledger still serves) while a dead letter is unresolved: some event is missing from a view. Each change
/// of the count is logged once as a warning, so the log says when the first bad event arrived, not on every probe.
/// </summary>
public sealed class DeadLetterHealthCheck(IDocumentStore store, ILogger<DeadLetterHealthCheck> logger) : IHealthCheck
{
    private static long _lastLogged;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var session = store.QuerySession();
        var letters = await DeadLetters.List(session, DeadLetters.MaxLimit, cancellationToken);
        if (Interlocked.Exchange(ref _lastLogged, letters.Unresolved) != letters.Unresolved && letters.Unresolved > 0)
        {
            var newest = letters.DeadLetters.FirstOrDefault(d => !d.Resolved) ?? letters.DeadLetters[0];
            logger.LogWarning("{Count} unresolved dead letter(s): events skipped by projections. Newest: {Projection} event #{Sequence} ({EventType}): {Error}. GET /api/dead-letters lists them",
                letters.Unresolved, newest.Projection, newest.EventSequence, newest.EventType, newest.Error);
        }

        var data = new Dictionary<string, object> { ["total"] = letters.Total, ["unresolved"] = letters.Unresolved };
        return letters.Unresolved == 0
            ? HealthCheckResult.Healthy("No unresolved dead letters.", data)
            : HealthCheckResult.Degraded($"{letters.Unresolved} event(s) could not be applied by a projection and were skipped; see GET /api/dead-letters.", data: data);
    }
}
