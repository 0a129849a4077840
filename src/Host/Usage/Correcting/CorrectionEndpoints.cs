using System.Security.Claims;
using ComputeLedger.Host.Commitments.TrackingConsumption;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Ledger.Usage.Correcting;
using ComputeLedger.Host.Usage.Ingesting;
using ComputeLedger.Projections.Catalog;
using Marten;
using Wolverine;
using Wolverine.Http;

namespace ComputeLedger.Host.Usage.Correcting;

public sealed record VoidUsageRequest(string? Reason);

public sealed record CorrectUsageRequest(decimal? ChipHours, Instant? Start, Instant? End, long? Tokens, string? Reason);

/// <summary>
/// Voids and corrections never edit history: they append to the usage record's own stream and move its claim's
/// current amount, in one transaction. Repeating one does nothing; correcting a voided record is a conflict.
/// </summary>
public static class CorrectionEndpoints
{
    [WolverinePost("/api/usage/{usageId}/void", OperationId = "VoidUsage")]
    [Tags("Usage")]
    public static async Task<IResult> Void(string usageId, VoidUsageRequest? request, IDocumentSession session, IMessageBus bus, IClock clock,
        ClaimsPrincipal user, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request?.Reason))
        {
            return Problems.Invalid("reason", "reason is required: say why the record is withdrawn.");
        }

        var errors = new List<(string, string)>();
        if (Fields.Text(request.Reason, "reason", errors) is not { } reason)
        {
            return Problems.Invalid(errors);
        }

        var command = new VoidUsage(usageId, reason, Caller.From(user).Name);
        var now = clock.GetCurrentInstant();
        return await Decide(session, bus, usageId, now, (record, _) => UsageCorrectionDecider.Decide(command, record, now), ct);
    }

    [WolverinePost("/api/usage/{usageId}/correct", OperationId = "CorrectUsage")]
    [Tags("Usage")]
    public static async Task<IResult> Correct(string usageId, CorrectUsageRequest? request, IDocumentSession session, IMessageBus bus, IClock clock,
        ClaimsPrincipal user, CancellationToken ct)
    {
        if (request is null || (request.ChipHours is null && request.Start is null && request.End is null && request.Tokens is null))
        {
            return Problems.Invalid("chipHours", "send at least one of chipHours, start, end or tokens with its corrected value.");
        }

        var errors = new List<(string, string)>();
        var reason = Fields.Text(request.Reason, "reason", errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var command = new CorrectUsage(usageId, request.ChipHours, request.Start, request.End, request.Tokens, reason, Caller.From(user).Name);
        var now = clock.GetCurrentInstant();
        return await Decide(session, bus, usageId, now, (record, books) =>
            UsageCorrectionDecider.Decide(command, record, at => RateBook.Price(books.Provider, books.Overrides, record.Chip, record.Region, at), now), ct);
    }

    private static async Task<IResult> Decide(IDocumentSession session, IMessageBus bus, string usageId, Instant now,
        Func<UsageRecord, (RateBook Provider, RateBook Overrides), IReadOnlyList<object>> decide, CancellationToken ct)
    {
        await session.BeginTransactionAsync(ct);

        // Locking the claim row serializes corrections of one record without blocking anything else.
        var streamId = await UsageClaims.LockStream(session, usageId, ct);

        if (streamId is null)
        {
            return Problems.NotFound($"No usage '{usageId}' is recorded.");
        }

        var stream = await session.Events.FetchStreamAsync(streamId, token: ct);
        var record = UsageRecord.Fold(stream.Select(e => e.Data), usageId)!;
        var books = (await session.LoadManyAsync<RateBookView>(ct, RateBookView.ProviderStream(record.Provider), RateBookView.CommitmentStream(record.CommitmentId)))
            .ToDictionary(b => b.Id, b => b.ToRateBook());

        IReadOnlyList<object> events;
        try
        {
            events = decide(record, (books.GetValueOrDefault(RateBookView.ProviderStream(record.Provider), RateBook.Empty),
                books.GetValueOrDefault(RateBookView.CommitmentStream(record.CommitmentId), RateBook.Empty)));
        }
        catch (RuleViolation violation)
        {
            return Problems.From(violation);
        }

        if (events.Count > 0)
        {
            var after = UsageRecord.Fold(stream.Select(e => e.Data).Concat(events), usageId)!;
            await UsageClaims.Update(session, usageId, after.Voided ? 0m : after.Current.Amount.Amount, after.Voided, after.Current.ChipHours, after.Current.Start, ct);
            session.Events.Append(streamId, stream[^1].Version + events.Count, [.. events]);
            // A void can take consumption back under a threshold; a correction can also push it over one.
            await ConsumptionMilestones.Recheck(session, bus, record.CommitmentId, usageId, now, ct);
            await session.SaveChangesAsync(ct);
            record = after;
        }

        return TypedResults.Ok(new
        {
            record.UsageId,
            record.CommitmentId,
            record.Provider,
            record.Chip,
            record.Region,
            record.Voided,
            record.Current.ChipHours,
            record.Current.Start,
            record.Current.End,
            record.Current.Tokens,
            record.Current.PricePerChipHour,
            record.Current.Amount,
        });
    }
}
