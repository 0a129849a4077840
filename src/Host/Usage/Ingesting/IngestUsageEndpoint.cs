using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using ComputeLedger.Host.Commitments.TrackingConsumption;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Ledger.Usage.Ingesting;
using ComputeLedger.Projections.Catalog;
using ComputeLedger.Projections.Commitments;
using Marten;
using Wolverine;
using Wolverine.Http;

namespace ComputeLedger.Host.Usage.Ingesting;

public sealed record UsageRecordBody(
    string? UsageId, string? CommitmentId, string? Provider, string? Chip, string? Region,
    decimal? ChipHours, Instant? Start, Instant? End, long? Tokens);

public sealed record UsageBatchBody(List<UsageRecordBody?>? Records);

public sealed record RejectedRecord(int Index, string? UsageId, IReadOnlyList<string> Errors);

public sealed record IngestResult(int Accepted, int Duplicates, IReadOnlyList<RejectedRecord> Rejected)
{
    /// <summary>Which records of the batch were duplicates (for the metrics' provider labels; not part of the answer).</summary>
    [JsonIgnore]
    public IReadOnlyList<int> DuplicateIndices { get; init; } = [];
}

/// <summary>
/// POST /api/usage: validate and price each record, claim its usageId and append its event in one transaction.
/// The claim and the append commit or roll back together, so a batch whose write failed is accepted whole on retry.
/// </summary>
public static class IngestUsageEndpoint
{
    public const int MaxRecords = 10_000;
    public const long MaxBytes = 16 * 1024 * 1024;

    /// <summary>A batch naming more commitments than this has their streams read by the milestone check itself.</summary>
    private const int MaxPrefetchedStreams = 8;

    [WolverinePost("/api/usage", OperationId = "IngestUsage")]
    [Tags("Usage")]
    public static async Task<IResult> Post(HttpRequest request, IDocumentSession session, IMessageBus bus, IClock clock, ClaimsPrincipal user, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (records, problem) = CloudEventsUsageReader.Handles(request) ? await CloudEventsUsageReader.Read(request, ct) : await UsageBodyReader.Read(request, ct);
        if (problem is not null)
        {
            return problem;
        }

        var caller = Caller.From(user);
        if (caller.Role == ApiRole.Ingest && records!.FirstOrDefault(r => r is not null && r.Provider is not null && r.Provider != caller.Provider) is { } foreign)
        {
            return Problems.Status(StatusCodes.Status403Forbidden, "Provider outside this key's scope",
                $"This ingest key may only post usage for provider '{caller.Provider}'; the batch has a record for '{foreign.Provider}'. Nothing was stored.");
        }

        var result = CloudEventsUsageReader.Explain(request, await Ingest(session, bus, records!, clock.GetCurrentInstant(), ct));
        Infrastructure.Telemetry.LedgerMetrics.Ingested(records!, result, started);
        return TypedResults.Ok(result);
    }

    /// <summary>The whole ingestion decision and write, shared by the endpoint and the demo loader.</summary>
    public static async Task<IngestResult> Ingest(IDocumentSession session, IMessageBus bus, IReadOnlyList<UsageRecordBody?> records, Instant now, CancellationToken ct)
    {
        // Only well-formed ids are looked up: the others are rejected per record anyway, and a NUL would fail the query.
        var commitmentIds = records.Select(r => r?.CommitmentId).OfType<string>().Distinct(StringComparer.Ordinal).Where(id => Limits.Id(id) is null).ToArray();
        // One round trip for everything the batch is judged against: its commitments, the rate books of the providers
        // its records name (a record priced by another provider's book is refused before pricing: its provider differs
        // from its commitment's), each commitment's overrides, and, for the milestone check, the commitments' streams.
        var providers = records.Select(r => r?.Provider).OfType<string>().Distinct(StringComparer.Ordinal).Where(p => Limits.Name(p) is null);
        var lookup = session.CreateBatchQuery();
        var loadingCommitments = lookup.LoadMany<TrancheEligibility>().ById(commitmentIds);
        var loadingBooks = lookup.LoadMany<RateBookView>().ById(providers.Select(RateBookView.ProviderStream)
            .Concat(commitmentIds.Select(RateBookView.CommitmentStream)).ToArray());
        var loadingStreams = commitmentIds.Length <= MaxPrefetchedStreams
            ? commitmentIds.Select(id => (Id: id, Events: lookup.Events.FetchStream(id))).ToList()
            : [];
        await lookup.Execute(ct);
        var commitments = (await loadingCommitments).ToDictionary(c => c.CommitmentId, StringComparer.Ordinal);
        var books = (await loadingBooks).ToDictionary(b => b.Id, b => b.ToRateBook(), StringComparer.Ordinal);
        var streamsBefore = new Dictionary<string, IReadOnlyList<JasperFx.Events.IEvent>>(StringComparer.Ordinal);
        foreach (var (id, events) in loadingStreams)
        {
            streamsBefore[id] = await events;
        }

        // What the rules need of each commitment, made once per commitment of the batch rather than once per record.
        var contexts = commitments.Values.ToDictionary(c => c.CommitmentId, c => (
            Facts: new CommitmentFacts(c.CommitmentId, c.Status, c.Provider, c.ComputeCommitment?.Chips ?? [], c.ComputeCommitment?.CommittedSpend.Currency),
            ProviderBook: books.GetValueOrDefault(RateBookView.ProviderStream(c.Provider), RateBook.Empty),
            Overrides: books.GetValueOrDefault(RateBookView.CommitmentStream(c.CommitmentId), RateBook.Empty)), StringComparer.Ordinal);

        // The claim's COPY is opened now, its answer awaited only when the claims are written: that round trip overlaps
        // the judging below instead of following it. Disposed unused (every record rejected), it is undone.
        await session.BeginTransactionAsync(ct);
        await using var claiming = await UsageClaims.Open(session, ct);
        var (valid, rejected, duplicates) = Judge(records, contexts, now);
        if (valid.Count == 0)
        {
            return new IngestResult(0, duplicates.Count, rejected) { DuplicateIndices = duplicates };
        }

        // One stream per (batch, commitment): bounded by the batch size, and never shared by two writers.
        var streams = new Dictionary<string, string>(StringComparer.Ordinal);
        var claims = new List<UsageClaim>(valid.Count);
        foreach (var (_, consumed, fingerprint) in valid)
        {
            if (!streams.TryGetValue(consumed.CommitmentId, out var stream))
            {
                streams[consumed.CommitmentId] = stream = $"usage:{consumed.CommitmentId}:{Guid.NewGuid():N}";
            }

            claims.Add(new UsageClaim(consumed, fingerprint, stream));
        }

        var claimed = await UsageClaims.Claim(claiming, claims, ct);
        // Null: every id was new (the usual case), so no id is looked up twice.
        var known = claimed is null || claimed.Count == valid.Count
            ? []
            : await UsageClaims.Fingerprints(session, valid.Where(v => !claimed.Contains(v.Event.UsageId)).Select(v => v.Event.UsageId).ToArray(), ct);

        var accepted = new List<ChipHoursConsumed>(valid.Count);
        foreach (var (index, consumed, fingerprint) in valid)
        {
            if (claimed is null || claimed.Contains(consumed.UsageId))
            {
                accepted.Add(consumed);
            }
            else if (known.TryGetValue(consumed.UsageId, out var storedFingerprint) && storedFingerprint == fingerprint)
            {
                duplicates.Add(index);
            }
            else
            {
                rejected.Add(new RejectedRecord(index, consumed.UsageId,
                    [$"usageId '{consumed.UsageId}' was already recorded with different content; usage ids are unique for all time. Void or correct the stored record instead."]));
            }
        }

        // One UsageRecorded per (batch, commitment), on its own new stream: the event row costs once per batch, not per record.
        var byCommitment = new Dictionary<string, List<ChipHoursConsumed>>(StringComparer.Ordinal);
        foreach (var consumed in accepted)
        {
            if (!byCommitment.TryGetValue(consumed.CommitmentId, out var group))
            {
                byCommitment[consumed.CommitmentId] = group = new List<ChipHoursConsumed>(byCommitment.Count == 0 ? accepted.Count : 16);
            }

            group.Add(consumed);
        }

        foreach (var (commitmentId, group) in byCommitment)
        {
            session.Events.StartStream(streams[commitmentId], UsageEvents.Batch(group, now));
        }

        await ConsumptionMilestones.Detect(session, bus, byCommitment.Keys, now, ct, streamsBefore);

        await session.SaveChangesAsync(ct);
        return new IngestResult(accepted.Count, duplicates.Count, rejected.OrderBy(r => r.Index).ToList()) { DuplicateIndices = duplicates };
    }

    /// <summary>
    /// Each record checked and priced against its commitment (pure: no I/O, so it can run while the claim's COPY opens):
    /// the valid ones with their fingerprints, the rejected ones with their reasons, and the indices of repeats within
    /// the batch.
    /// </summary>
    private static (List<(int Index, ChipHoursConsumed Event, string Fingerprint)> Valid, List<RejectedRecord> Rejected, List<int> Duplicates) Judge(
        IReadOnlyList<UsageRecordBody?> records,
        Dictionary<string, (CommitmentFacts Facts, RateBook ProviderBook, RateBook Overrides)> contexts,
        Instant now)
    {
        var rejected = new List<RejectedRecord>();
        var duplicates = new List<int>();
        var valid = new List<(int Index, ChipHoursConsumed Event, string Fingerprint)>(records.Count);
        var seenInBatch = new Dictionary<string, string>(records.Count, StringComparer.Ordinal);

        for (var i = 0; i < records.Count; i++)
        {
            var body = records[i];
            if (body is null)
            {
                rejected.Add(new RejectedRecord(i, null, ["the record is null."]));
                continue;
            }

            var submission = new UsageSubmission(body.UsageId, body.CommitmentId, body.Provider, body.Chip, body.Region,
                body.ChipHours, body.Start, body.End, body.Tokens);
            var (facts, providerBook, overrides) = body.CommitmentId is not null && contexts.TryGetValue(body.CommitmentId, out var context)
                ? context
                : (null, RateBook.Empty, RateBook.Empty);

            var (consumed, errors) = UsageRules.Check(submission, facts, providerBook, overrides, now);
            if (consumed is null)
            {
                rejected.Add(new RejectedRecord(i, body.UsageId, errors));
                continue;
            }

            var fingerprint = submission.Fingerprint();
            if (seenInBatch.TryGetValue(consumed.UsageId, out var earlier))
            {
                if (earlier == fingerprint)
                {
                    duplicates.Add(i);
                }
                else
                {
                    rejected.Add(new RejectedRecord(i, body.UsageId,
                        [$"usageId '{consumed.UsageId}' appears earlier in this batch with different content; usage ids are unique for all time."]));
                }

                continue;
            }

            seenInBatch[consumed.UsageId] = fingerprint;
            valid.Add((i, consumed, fingerprint));
        }

        return (valid, rejected, duplicates);
    }
}
