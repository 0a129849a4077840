using System.Text.Json;
using ComputeLedger.Host.Catalog;
using ComputeLedger.Host.Commitments.AchievingMilestone;
using ComputeLedger.Host.Commitments.Declining;
using ComputeLedger.Host.Commitments.Recording;
using ComputeLedger.Host.Commitments.ReleasingTranche;
using ComputeLedger.Host.Commitments.Signing;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Integration;
using ComputeLedger.Host.Usage.Correcting;
using ComputeLedger.Host.Usage.Ingesting;
using ComputeLedger.Projections.Commitments;
using Marten;

namespace ComputeLedger.Host.Seed;

public sealed record DemoStep(SignRequest? Sign, DeclineRequest? Decline, AchieveStep? Achieve, ReleaseStep? Release);

public sealed record AchieveStep(string MilestoneId, LocalDate AchievedOn, string Evidence);

public sealed record ReleaseStep(string TrancheId, LocalDate ReleasedOn);

public sealed record DemoCommitment(RecordCommitmentRequest Create, List<DemoStep>? Then, LocalDate? RecordedOn);

public sealed record DemoData(List<DemoCommitment> Commitments);

public sealed record ProviderRates(string Provider, LocalDate EffectiveFrom, List<RateBody?> Rates);

public sealed record CommitmentRates(string CommitmentId, LocalDate EffectiveFrom, List<RateBody?> Rates);

public sealed record DemoRates(LocalDate RecordedOn, List<ProviderRates> Providers, List<CommitmentRates> CommitmentOverrides);

public sealed record DemoChipSpec(
    string Chip, LocalDate? EffectiveFrom, decimal? Fp16Tflops, decimal? InferenceLatencyMs, MoneyBody? ListCostPer1MTokens, decimal? TflopsPerWatt, string? Source);

public sealed record DemoChipSpecs(string Source, LocalDate RecordedOn, List<DemoChipSpec> Specs);

/// <summary>
/// When Ledger:SeedDemoData is on and the ledger holds no commitment, records the demo as a simulated history: every deal,
/// step, rate card, chip figure, usage batch, void and correction through the very endpoint methods the API serves, each
/// with the ledger's clock set to the moment the history says it was recorded (so asOf/knownAt, restatements and lineage
/// have a history to show). Runs before the host serves requests and the watch starts; the clock is real again afterwards.
/// A ledger that already holds commitments is left as it is.
/// Longer than 200 lines: the simulated year is one script whose order matters (deals, rate cards, usage days, late
/// records, voids, corrections, milestones); split into files, that order would be hard to read.
/// </summary>
public sealed class DemoDataSeeder(IDocumentStore store, IServiceProvider services, IConfiguration configuration, LedgerTime time, ILogger<DemoDataSeeder> logger) : IHostedService
{
    private static readonly Caller Seeder = new("demo-seed", ApiRole.Admin, null);

    private sealed record Step(Instant At, int Order, string What, Func<IClock, Task<IResult>> Run);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!configuration.GetValue("Ledger:SeedDemoData", false))
        {
            return;
        }

        await using (var query = store.QuerySession())
        {
            if (await query.Query<TrancheEligibility>().AnyAsync(cancellationToken))
            {
                logger.LogInformation("Demo data: the ledger already holds commitments; nothing added");
                return;
            }
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        var steps = new List<Step>();
        steps.AddRange(await Commitments(cancellationToken));
        steps.AddRange(await Rates(cancellationToken));
        steps.AddRange(await Specs(cancellationToken));
        var usage = await Load<DemoUsageData>("demo-usage.json", cancellationToken);
        steps.AddRange(Usage(usage, cancellationToken));

        var clock = new TimeProviderClock(time);
        try
        {
            foreach (var step in steps.OrderBy(s => s.At).ThenBy(s => s.Order))
            {
                time.Simulate(step.At);
                Ensure(step.What, await step.Run(clock));
            }
        }
        finally
        {
            time.Simulate(null);
        }

        logger.LogInformation("Demo data: {Steps} steps of simulated history recorded in {Seconds:0.0} s", steps.Count, started.Elapsed.TotalSeconds);
    }

    public static async Task<T> Load<T>(string name, CancellationToken ct)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Seed", name);
        await using var file = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<T>(file, Json.Options, ct) ?? throw new InvalidOperationException($"{path} is empty.");
    }

    private static Instant At(LocalDate day, int hour) => day.At(new LocalTime(hour, 0)).InUtc().ToInstant();

    private async Task<IEnumerable<Step>> Commitments(CancellationToken ct)
    {
        var data = await Load<DemoData>("demo-commitments.json", ct);
        var user = Seeder.ToPrincipal();
        var steps = new List<Step>();
        foreach (var deal in data.Commitments)
        {
            var id = deal.Create.CommitmentId!;
            var recorded = deal.RecordedOn ?? deal.Create.SignedOn ?? throw new InvalidOperationException($"Demo deal '{id}' has neither recordedOn nor signedOn.");
            steps.Add(new Step(At(recorded, 9), 0, $"{id}: record", clock => Outboxed((session, bus) =>
                RecordCommitmentEndpoint.Post(deal.Create, session, bus, clock, user, ct))));
            foreach (var step in deal.Then ?? [])
            {
                var request = new DefaultHttpContext().Request;
                steps.Add(step switch
                {
                    { Sign: { SignedOn: { } on } s } => new Step(At(on, 10), 1, $"{id}: sign", clock => Outboxed((session, bus) =>
                        SignCommitmentEndpoint.Post(id, s, session, bus, clock, user, request, ct))),
                    { Decline: { DeclinedOn: { } on } d } => new Step(At(on, 10), 1, $"{id}: decline", clock => Outboxed((session, bus) =>
                        DeclineCommitmentEndpoint.Post(id, d, session, bus, clock, user, request, ct))),
                    { Achieve: { } a } => new Step(At(a.AchievedOn, 15), 1, $"{id}: achieve {a.MilestoneId}", clock => Outboxed((session, bus) =>
                        AchieveMilestoneEndpoint.Post(id, a.MilestoneId, new AchieveMilestoneRequest(a.AchievedOn, a.Evidence, null), session, bus, clock, user, request, ct))),
                    { Release: { } r } => new Step(At(r.ReleasedOn, 16), 1, $"{id}: release {r.TrancheId}", clock => Outboxed((session, bus) =>
                        ReleaseTrancheEndpoint.Post(id, r.TrancheId, new ReleaseTrancheRequest(r.ReleasedOn, null), session, bus, clock, user, request, ct))),
                    _ => throw new InvalidOperationException($"Demo step for '{id}' names no action or no date."),
                });
            }
        }

        return steps;
    }

    private async Task<IEnumerable<Step>> Rates(CancellationToken ct)
    {
        var rates = await Load<DemoRates>("demo-rates.json", ct);
        var user = Seeder.ToPrincipal();
        var at = At(rates.RecordedOn, 11);
        return rates.Providers.Select(card => new Step(at, 2, $"rates of {card.Provider}", clock => InSession(session =>
                RateEndpoints.PublishForProvider(card.Provider, new PublishRatesRequest(card.EffectiveFrom, card.Rates), session, clock, user, ct))))
            .Concat(rates.CommitmentOverrides.Select(card => new Step(at, 2, $"rates of {card.CommitmentId}", clock => InSession(session =>
                RateEndpoints.PublishForCommitment(card.CommitmentId, new PublishRatesRequest(card.EffectiveFrom, card.Rates), session, clock, user, ct)))))
            .ToList();
    }

    private async Task<IEnumerable<Step>> Specs(CancellationToken ct)
    {
        var data = await Load<DemoChipSpecs>("demo-chip-specs.json", ct);
        var user = Seeder.ToPrincipal();
        return data.Specs.Select(spec => new Step(At(data.RecordedOn, 11), 3, $"specs of {spec.Chip}", clock => InSession(session =>
            ChipEndpoints.PublishSpecs(spec.Chip, new PublishChipSpecsRequest(spec.EffectiveFrom, spec.Fp16Tflops, spec.InferenceLatencyMs,
                spec.ListCostPer1MTokens, spec.TflopsPerWatt, spec.Source ?? data.Source), session, clock, user, ct)))).ToList();
    }

    /// <summary>One ingestion per recording instant (the batch a meter export would send), then the voids and corrections on their days.</summary>
    private IEnumerable<Step> Usage(DemoUsageData data, CancellationToken ct)
    {
        var records = DemoUsage.Records(data);
        var recordedAt = records.ToDictionary(r => r.Body.UsageId!, r => r.RecordedAt, StringComparer.Ordinal);
        foreach (var batch in records.GroupBy(r => r.RecordedAt))
        {
            var bodies = batch.Select(r => r.Body).ToList();
            yield return new Step(batch.Key, 4, $"usage recorded at {batch.Key}", async clock =>
            {
                await using var work = LedgerOutbox.Open(services);
                var result = await IngestUsageEndpoint.Ingest(work.Session, work.Bus, bodies, clock.GetCurrentInstant(), ct);
                return result.Rejected.Count > 0
                    ? Problems.Invalid("records", string.Join("; ", result.Rejected[0].Errors))
                    : TypedResults.Ok(result);
            });
        }

        var user = Seeder.ToPrincipal();
        foreach (var v in data.Voids)
        {
            yield return new Step(Later(At(v.On, 14), v.UsageId, recordedAt), 5, $"void {v.UsageId}", clock => Outboxed((session, bus) =>
                CorrectionEndpoints.Void(v.UsageId, new VoidUsageRequest(v.Reason), session, bus, clock, user, ct)));
        }

        var hours = records.ToDictionary(r => r.Body.UsageId!, r => r.Body.ChipHours!.Value, StringComparer.Ordinal);
        foreach (var c in data.Corrections)
        {
            var corrected = decimal.Round(hours[c.UsageId] * c.ChipHoursFactor, 1);
            yield return new Step(Later(At(c.On, 14), c.UsageId, recordedAt), 5, $"correct {c.UsageId}", clock => Outboxed((session, bus) =>
                CorrectionEndpoints.Correct(c.UsageId, new CorrectUsageRequest(corrected, null, null, null, c.Reason), session, bus, clock, user, ct)));
        }
    }

    private static Instant Later(Instant at, string usageId, Dictionary<string, Instant> recordedAt) =>
        recordedAt.TryGetValue(usageId, out var recorded) && recorded < at
            ? at
            : throw new InvalidOperationException($"Demo usage '{usageId}' is voided or corrected before the history records it (or is not in the demo).");

    private async Task<IResult> Outboxed(Func<IDocumentSession, Wolverine.IMessageBus, Task<IResult>> action)
    {
        await using var work = LedgerOutbox.Open(services);
        return await action(work.Session, work.Bus);
    }

    private async Task<IResult> InSession(Func<IDocumentSession, Task<IResult>> action)
    {
        await using var session = store.LightweightSession();
        return await action(session);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static void Ensure(string what, IResult result)
    {
        if (result is IStatusCodeHttpResult { StatusCode: >= 300 } failed)
        {
            var detail = (result as IValueHttpResult)?.Value is Microsoft.AspNetCore.Mvc.ProblemDetails p ? p.Detail : null;
            throw new InvalidOperationException($"Demo data was refused at {what}: {failed.StatusCode} {detail}");
        }
    }
}
