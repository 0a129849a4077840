using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Projections.Usage;
using JasperFx.Events.Daemon;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Operations;

/// <summary>
/// An event a projection could not apply and skipped. <c>Resolved</c>: the usage record it carries has since been voided,
/// so leaving it out is what the views should do anyway (after a rebuild, see the README).
/// </summary>
public sealed record DeadLetter(
    Guid Id, string Projection, string Shard, long EventSequence, Guid? EventId, string? EventType, string? Stream, string? UsageId,
    string ErrorType, string Error, DateTimeOffset DeadLetteredAt, DateTimeOffset? EventRecordedAt, bool Resolved);

public sealed record DeadLettersResponse(long Total, long Unresolved, int Limit, IReadOnlyList<DeadLetter> DeadLetters);

public static class DeadLetters
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    [WolverineGet("/api/dead-letters", OperationId = "ListDeadLetters")]
    [Tags("Operations")]
    public static async Task<IResult> Get(int? limit, IQuerySession session, CancellationToken ct)
    {
        if (limit is < 1 or > MaxLimit)
        {
            return Problems.Invalid("limit", $"limit is a whole number from 1 to {MaxLimit} (default {DefaultLimit}); got {limit}.");
        }

        return TypedResults.Ok(await List(session, limit ?? DefaultLimit, ct));
    }

    /// <summary>The newest dead letters first (by event sequence), with what the event log says of each event.</summary>
    public static async Task<DeadLettersResponse> List(IQuerySession session, int limit, CancellationToken ct)
    {
        var total = await session.Query<DeadLetterEvent>().CountAsync(ct);
        if (total == 0)
        {
            return new DeadLettersResponse(0, 0, limit, []);
        }

        var letters = await session.Query<DeadLetterEvent>()
            .OrderByDescending(d => d.EventSequence).ThenBy(d => d.ProjectionName).Take(limit).ToListAsync(ct);
        var sequences = letters.Select(d => d.EventSequence).Distinct().ToArray();
        var events = (await session.Events.QueryAllRawEvents().Where(e => sequences.Contains(e.Sequence)).ToListAsync(ct))
            .ToDictionary(e => e.Sequence);
        var usageIds = events.Values.Select(e => Countable.UsageIdOf(e.Data)).OfType<string>().Distinct().ToArray();
        var voided = await Usage.UsageClaims.Voided(session, usageIds, ct);

        var list = letters.Select(d =>
        {
            var e = events.GetValueOrDefault(d.EventSequence);
            var usageId = e is null ? null : Countable.UsageIdOf(e.Data);
            return new DeadLetter(d.Id, d.ProjectionName, d.ShardName, d.EventSequence, e?.Id, e?.EventTypeName, e?.StreamKey, usageId,
                d.ExceptionType, d.ExceptionMessage, d.Timestamp, e?.Timestamp, usageId is not null && voided.Contains(usageId));
        }).ToList();

        // Resolution is only known for the listed ones; the rest count as unresolved until listed.
        var unresolved = total - list.Count(d => d.Resolved);
        return new DeadLettersResponse(total, unresolved, limit, list);
    }
}
