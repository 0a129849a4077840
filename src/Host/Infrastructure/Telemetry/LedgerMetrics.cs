using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ComputeLedger.Host.Usage.Ingesting;
using ComputeLedger.Ledger.Commitments.TrackingConsumption;
using ComputeLedger.Ledger.Commitments;

namespace ComputeLedger.Host.Infrastructure.Telemetry;

/// <summary>
/// The ledger's own instruments, named after OpenTelemetry's conventions under <c>ledger.</c>, each with a unit and a
/// description. Each site that counts calls one method here, so the names, units and attributes live in one place.
/// Attributes take values from closed sets only (outcome, reason class, mark) or from providers the ledger accepted
/// usage for, so a client cannot grow the series count with made-up values.
/// </summary>
public static class LedgerMetrics
{
    public const string MeterName = "ComputeLedger";

    /// <summary>Spans the ledger makes itself (a webhook delivery attempt); HTTP, Npgsql and Wolverine bring their own.</summary>
    public static readonly ActivitySource Source = new(MeterName);

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Records = Meter.CreateCounter<long>("ledger.usage.records", "{record}",
        "Usage records posted to /api/usage, by outcome (accepted, duplicate, rejected), provider and, for rejections, reason class.");

    private static readonly Histogram<double> BatchDuration = Meter.CreateHistogram("ledger.usage.batch.duration", "s",
        "Time to validate, price and store one usage batch, by outcome of the batch.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    private static readonly Counter<long> Deliveries = Meter.CreateCounter<long>("ledger.webhook.deliveries", "{attempt}",
        "Webhook delivery attempts, by outcome (delivered, retrying, failed) and attempt number.");

    private static readonly Counter<long> Milestones = Meter.CreateCounter<long>("ledger.milestones.achieved", "{milestone}",
        "Milestones recorded as achieved, by kind (consumption: detected from usage; attested: recorded by an admin).");

    private static readonly Counter<long> Marks = Meter.CreateCounter<long>("ledger.drawdown.marks.crossed", "{mark}",
        "Drawdown marks (50, 75, 90, 100% of committed compute) crossed, by mark.");

    /// <summary>Providers usage was accepted for: the only provider values rejections and duplicates are labelled with.</summary>
    private static readonly ConcurrentDictionary<string, byte> KnownProviders = new(StringComparer.Ordinal);

    private const int MaxProviders = 256;

    /// <summary>The last figures <see cref="LedgerGauges"/> read; the observable instruments below report them.</summary>
    internal static LedgerGauges.Sample Sampled { get; set; } = LedgerGauges.Sample.Empty;

    internal static readonly ObservableGauge<double> ProjectionLag = Meter.CreateObservableGauge("ledger.projection.lag", () => Sampled.Projections.Select(p =>
                new Measurement<double>(p.SecondsBehind, new KeyValuePair<string, object?>("ledger.projection", p.Name))), "s",
            "Age of the oldest event an async projection has not folded yet (0 when caught up).");

    internal static readonly ObservableGauge<long> ProjectionEventsBehind = Meter.CreateObservableGauge("ledger.projection.events.behind", () => Sampled.Projections.Select(p =>
                new Measurement<long>(p.EventsBehind, new KeyValuePair<string, object?>("ledger.projection", p.Name))), "{event}",
            "Events appended but not folded yet by an async projection.");

    internal static readonly ObservableCounter<long> ProjectionEventsProcessed = Meter.CreateObservableCounter("ledger.projection.events.processed", () => Sampled.Projections.Select(p =>
                new Measurement<long>(p.LastSequence, new KeyValuePair<string, object?>("ledger.projection", p.Name))), "{event}",
            "Position of an async projection in the event log (the last sequence it folded).");

    internal static readonly ObservableGauge<long> DeadLetters = Meter.CreateObservableGauge("ledger.projection.dead_letters", () => Sampled.DeadLetters, "{event}",
            "Events a projection skipped because folding them failed (GET /api/dead-letters lists them).");

    internal static readonly ObservableGauge<long> OutboxDepth = Meter.CreateObservableGauge("ledger.messaging.outbox.depth", () => Sampled.Outbox, "{message}",
            "Messages in the durable outbox not yet accepted by their transport.");

    internal static readonly ObservableGauge<long> QueueDepth = Meter.CreateObservableGauge("ledger.messaging.queue.depth", () => Sampled.Queues.Select(q =>
                new Measurement<long>(q.Depth, new KeyValuePair<string, object?>("ledger.queue", q.Name))), "{message}",
            "Messages waiting: the durable inbox (incoming, scheduled) and each PostgreSQL integration queue.");

    /// <summary>One line from the ingest endpoint: what became of each record, and how long the batch took.</summary>
    public static void Ingested(IReadOnlyList<UsageRecordBody?> records, IngestResult result, long startedTimestamp)
    {
        var rejected = result.Rejected.Count == 0 ? null : result.Rejected.Select(r => r.Index).ToHashSet();
        var duplicate = result.DuplicateIndices.Count == 0 ? null : result.DuplicateIndices.ToHashSet();
        var counts = new Dictionary<(string Provider, string Outcome), long>();
        for (var i = 0; i < records.Count; i++)
        {
            if (rejected?.Contains(i) != true && records[i]?.Provider is { } provider)
            {
                System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, (provider, duplicate?.Contains(i) == true ? "duplicate" : "accepted"), out _)++;
            }
        }

        // Accepted and duplicate records passed the provider check against their commitment, so their providers are real ones.
        foreach (var ((provider, kind), n) in counts)
        {
            if (KnownProviders.Count < MaxProviders)
            {
                KnownProviders.TryAdd(provider, 0);
            }

            Add(Records, n, ("ledger.usage.outcome", kind), ("ledger.provider", provider));
        }

        foreach (var r in result.Rejected)
        {
            var provider = r.Index < records.Count ? records[r.Index]?.Provider : null;
            Add(Records, 1, ("ledger.usage.outcome", "rejected"), ("ledger.provider", Label(provider)), ("ledger.usage.reject_reason", ReasonClass(r)));
        }

        var outcome = result.Rejected.Count == 0 ? "accepted" : result.Accepted + result.Duplicates == 0 ? "rejected" : "partial";
        BatchDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, new KeyValuePair<string, object?>("ledger.usage.batch.outcome", outcome));
    }

    /// <summary>
    /// The class of a per-record rejection: <c>conflict</c> (a usage id reused with other content), <c>commitment</c>
    /// (unknown, unsigned, or another provider's or chip's), <c>rate</c> (no price applies) or <c>invalid</c> (a field).
    /// </summary>
    public static string ReasonClass(RejectedRecord rejected)
    {
        var first = rejected.Errors.Count > 0 ? rejected.Errors[0] : "";
        return first switch
        {
            _ when first.StartsWith("usageId '", StringComparison.Ordinal) && first.Contains("different content", StringComparison.Ordinal) => "conflict",
            _ when first.StartsWith("commitment '", StringComparison.Ordinal) || first.StartsWith("provider '", StringComparison.Ordinal)
                                                                              || first.StartsWith("chip '", StringComparison.Ordinal) => "commitment",
            _ when first.StartsWith("no rate", StringComparison.Ordinal) || first.StartsWith("the rate", StringComparison.Ordinal)
                                                                         || first.StartsWith("the record's amount", StringComparison.Ordinal) => "rate",
            _ => "invalid",
        };
    }

    /// <summary>One line from the delivery handler, after each attempt.</summary>
    public static void WebhookAttempt(string outcome, int attempt)
    {
        Deliveries.Add(1, new KeyValuePair<string, object?>("ledger.webhook.outcome", outcome),
            new KeyValuePair<string, object?>("ledger.webhook.attempt", Math.Min(attempt, 10)));
        Activity.Current?.SetTag("ledger.webhook.outcome", outcome).SetTag("ledger.webhook.attempt", attempt);
    }

    /// <summary>One line after a commit that wrote commitment events: milestones achieved and drawdown marks crossed.</summary>
    public static void Committed(IEnumerable<object> events)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case MilestoneAchieved m:
                    Milestones.Add(1, new KeyValuePair<string, object?>("ledger.milestone.kind",
                        m.RecordedBy == ConsumptionMilestoneDecider.Detector ? "consumption" : "attested"));
                    break;
                case DrawdownThresholdCrossed d:
                    Marks.Add(1, new KeyValuePair<string, object?>("ledger.drawdown.mark", d.Percent));
                    break;
            }
        }
    }

    private static string Label(string? provider) => provider is not null && KnownProviders.ContainsKey(provider) ? provider : "other";

    private static void Add(Counter<long> counter, long value, params (string Key, object? Value)[] tags)
    {
        if (value <= 0)
        {
            return;
        }

        var list = new TagList();
        foreach (var (key, v) in tags)
        {
            list.Add(key, v);
        }

        counter.Add(value, list);
    }
}
