using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;
using ComputeLedger.Host.Integration;
using Marten;
using Wolverine;

namespace ComputeLedger.Host.Commitments;

/// <summary>
/// Load, decide, append: the one write path of a Commitment stream. The stream is short (no usage lives in it),
/// so it is folded from its events each time; the append names the version it decided on, so a concurrent
/// writer makes one of the two saves fail with a conflict instead of both landing.
/// </summary>
public static class CommitmentStream
{
    public static async Task<IResult> Decide(
        IDocumentSession session,
        IMessageBus bus,
        string commitmentId,
        long? expectedVersion,
        Func<Commitment, IReadOnlyList<object>> decide,
        CancellationToken ct)
    {
        var stream = await session.Events.FetchStreamAsync(commitmentId, token: ct);
        var state = Commitment.Fold(stream.Select(e => e.Data));
        if (state is null)
        {
            return Problems.NotFound($"No commitment '{commitmentId}' is recorded.");
        }

        var version = stream[^1].Version;
        if (expectedVersion is { } expected && expected != version)
        {
            return Problems.Conflict(
                $"Commitment '{commitmentId}' is at version {version}, not {expected}: someone changed it since you read it. Reload and retry.");
        }

        IReadOnlyList<object> events;
        try
        {
            events = decide(state);
        }
        catch (RuleViolation violation)
        {
            return Problems.From(violation);
        }

        if (events.Count > 0)
        {
            await LedgerOutbox.Append(session, bus, commitmentId, state, version, events);
            await session.SaveChangesAsync(ct);
        }

        var view = await session.LoadAsync<TrancheEligibility>(commitmentId, ct);
        return TypedResults.Ok(EligibilityResponse.From(view!));
    }

    /// <summary>The version a client says it decided on: <c>expectedVersion</c> in the body, else an <c>If-Match</c> header.</summary>
    public static long? ExpectedVersion(long? fromBody, HttpRequest request)
    {
        if (fromBody is not null)
        {
            return fromBody;
        }

        var ifMatch = request.Headers.IfMatch.ToString().Trim().Trim('"');
        return long.TryParse(ifMatch, out var v) ? v : null;
    }
}
