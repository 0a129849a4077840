using Marten;
using Marten.Services;

namespace ComputeLedger.Host.Infrastructure.Telemetry;

/// <summary>Counts milestones and drawdown marks once their events are committed, whichever session wrote them.</summary>
public sealed class CommittedEventsListener : DocumentSessionListenerBase
{
    public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        LedgerMetrics.Committed(commit.GetEvents().Select(e => e.Data));
        return Task.CompletedTask;
    }
}
