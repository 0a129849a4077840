using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;
using ComputeLedger.Host.Integration;
using Marten;
using Npgsql;
using Wolverine;
using Wolverine.Runtime;

namespace ComputeLedger.Host.Commitments;

/// <summary>
/// The one write path of a Commitment stream: load (fold the stream's events; it is short, no usage lives in it), let a
/// pure decider of src/Ledger decide, append naming the version decided on, and publish the integration events the
/// append announces through the outbox. Three doors lead to it: <see cref="Start"/> (recording a deal), <see cref="Decide"/>
/// (a request, optimistic: a concurrent writer makes one of two saves fail with a conflict) and <see cref="DecideLocked"/>
/// (the ledger's own detectors, pessimistic: they run inside another transaction and must record each fact once).
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
            await Append(session, bus, commitmentId, state, version, events);
            await session.SaveChangesAsync(ct);
        }

        var view = await session.LoadAsync<TrancheEligibility>(commitmentId, ct);
        return TypedResults.Ok(EligibilityResponse.From(view!));
    }

    /// <summary>A new Commitment stream with the events its recording decided (the caller saves).</summary>
    public static Task Start(IDocumentSession session, IMessageBus bus, string commitmentId, IReadOnlyList<object> events) =>
        Append(session, bus, commitmentId, null, 0, events);

    /// <summary>
    /// The way the ledger's own detectors write to a commitment, in the caller's transaction: a cheap read first, and only
    /// when <paramref name="due"/> finds work, the stream is locked and read again (a transaction that held the lock
    /// before may have decided it already). The lock serializes detectors of one commitment until the caller's
    /// transaction ends, so each fact is recorded exactly once. <paramref name="decide"/> gathers the facts it needs
    /// (sums of stored usage) under the lock and returns what a pure decider made of them.
    /// </summary>
    public static async Task DecideLocked(IDocumentSession session, IMessageBus bus, string commitmentId, Func<Commitment?, bool> due,
        Func<Commitment, Task<IReadOnlyList<object>>> decide, CancellationToken ct, IReadOnlyList<JasperFx.Events.IEvent>? readBefore = null)
    {
        // The unlocked look may use the stream as the caller read it earlier in the request: it only decides whether to lock.
        if (!due(Commitment.Fold((readBefore ?? await session.Events.FetchStreamAsync(commitmentId, token: ct)).Select(e => e.Data))))
        {
            return;
        }

        await Lock(session, commitmentId, ct);
        var stream = await session.Events.FetchStreamAsync(commitmentId, token: ct);
        var state = Commitment.Fold(stream.Select(e => e.Data));
        if (state is not null && due(state))
        {
            await Append(session, bus, commitmentId, state, stream[^1].Version, await decide(state));
        }
    }

    /// <summary>
    /// Locks the stream's row of Marten's mt_streams until the transaction ends: the one statement of the project against
    /// that table. Marten's own exclusive lock (FetchForExclusiveWriting) needs an aggregate Marten folds itself, and a
    /// Commitment is folded here, from the stream; the row lock is the same one Marten takes, so Marten's appends to the
    /// stream wait on it too. Guarded by <c>tests/Host.Tests/Commitments/Locking_a_commitment_stream.cs</c>.
    /// </summary>
    public static async Task Lock(IDocumentSession session, string commitmentId, CancellationToken ct)
    {
        await using var command = ((NpgsqlConnection)session.Connection!).CreateCommand();
        command.CommandText = $"select 1 from {session.DocumentStore.Options.Events.DatabaseSchemaName}.mt_streams where id = @id for update";
        command.Parameters.Add(new NpgsqlParameter("id", commitmentId));
        await command.ExecuteScalarAsync(ct);
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

    /// <summary>
    /// Appends the decided events and publishes the integration events they announce through the bus's outbox. The bus
    /// must be enlisted in the session's transaction (an outboxed session, see <see cref="LedgerOutbox"/>), so the messages
    /// are stored by the same commit as the ledger events and sent only after it; a crash in between leaves them in the
    /// outbox, and a restarted node sends them.
    /// </summary>
    private static async Task Append(IDocumentSession session, IMessageBus bus, string commitmentId, Commitment? before, long versionBefore,
        IReadOnlyList<object> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        if (bus is not MessageContext { Transaction: not null })
        {
            throw new InvalidOperationException("Integration events must go through an outboxed session: open it from OutboxedSessionFactory with this bus.");
        }

        if (before is null)
        {
            session.Events.StartStream<Commitment>(commitmentId, [.. events]);
        }
        else
        {
            session.Events.Append(commitmentId, versionBefore + events.Count, [.. events]);
        }

        foreach (var message in IntegrationEvents.For(before, versionBefore, events))
        {
            await bus.PublishAsync(message);
        }
    }
}
