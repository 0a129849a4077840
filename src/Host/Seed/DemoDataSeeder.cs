using System.Text.Json;
using ComputeLedger.Host.Catalog;
using ComputeLedger.Host.Commitments.AchievingMilestone;
using ComputeLedger.Host.Commitments.Declining;
using ComputeLedger.Host.Commitments.Recording;
using ComputeLedger.Host.Commitments.ReleasingTranche;
using ComputeLedger.Host.Commitments.Signing;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Integration;
using ComputeLedger.Host.Usage.Ingesting;
using ComputeLedger.Projections.Catalog;
using Marten;

namespace ComputeLedger.Host.Seed;

public sealed record DemoStep(SignRequest? Sign, DeclineRequest? Decline, AchieveStep? Achieve, ReleaseStep? Release);

public sealed record AchieveStep(string MilestoneId, LocalDate AchievedOn, string Evidence);

public sealed record ReleaseStep(string TrancheId, LocalDate ReleasedOn);

public sealed record DemoCommitment(RecordCommitmentRequest Create, List<DemoStep>? Then);

public sealed record DemoData(List<DemoCommitment> Commitments);

public sealed record ProviderRates(string Provider, LocalDate EffectiveFrom, List<RateBody?> Rates);

public sealed record CommitmentRates(string CommitmentId, LocalDate EffectiveFrom, List<RateBody?> Rates);

public sealed record DemoRates(List<ProviderRates> Providers, List<CommitmentRates> CommitmentOverrides);

/// <summary>
/// When Ledger:SeedDemoData is on, loads the demo deals, illustrative rate cards and a year of usage, through the very endpoint methods the API serves (never
/// by writing read models). What exists is skipped and usage is deduplicated, so a second start adds nothing.
/// </summary>
public sealed class DemoDataSeeder(IDocumentStore store, IServiceProvider services, IConfiguration configuration, IClock clock, ILogger<DemoDataSeeder> logger) : IHostedService
{
    private static readonly Caller Seeder = new("demo-seed", ApiRole.Admin, null);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!configuration.GetValue("Ledger:SeedDemoData", false))
        {
            return;
        }

        await SeedCommitments(cancellationToken);
        await SeedRates(cancellationToken);
        await SeedUsage(cancellationToken);
    }

    public static async Task<T> Load<T>(string name, CancellationToken ct)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Seed", name);
        await using var file = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<T>(file, Json.Options, ct) ?? throw new InvalidOperationException($"{path} is empty.");
    }

    private async Task SeedRates(CancellationToken cancellationToken)
    {
        var rates = await Load<DemoRates>("demo-rates.json", cancellationToken);
        var user = Seeder.ToPrincipal();
        foreach (var card in rates.Providers)
        {
            await using var session = store.LightweightSession();
            if (await session.Events.FetchStreamStateAsync(RateBookView.ProviderStream(card.Provider), cancellationToken) is null)
            {
                Ensure(card.Provider, "rates", await RateEndpoints.PublishForProvider(card.Provider,
                    new PublishRatesRequest(card.EffectiveFrom, card.Rates), session, clock, user, cancellationToken));
            }
        }

        foreach (var card in rates.CommitmentOverrides)
        {
            await using var session = store.LightweightSession();
            if (await session.Events.FetchStreamStateAsync(RateBookView.CommitmentStream(card.CommitmentId), cancellationToken) is null)
            {
                Ensure(card.CommitmentId, "rates", await RateEndpoints.PublishForCommitment(card.CommitmentId,
                    new PublishRatesRequest(card.EffectiveFrom, card.Rates), session, clock, user, cancellationToken));
            }
        }
    }

    private async Task SeedUsage(CancellationToken cancellationToken)
    {
        int accepted = 0, duplicates = 0;
        foreach (var batch in DemoUsage.Year2025().Chunk(1000))
        {
            await using var work = LedgerOutbox.Open(services);
            var result = await IngestUsageEndpoint.Ingest(work.Session, work.Bus, batch, clock.GetCurrentInstant(), cancellationToken);
            if (result.Rejected.Count > 0)
            {
                throw new InvalidOperationException($"Demo usage was rejected: {string.Join("; ", result.Rejected[0].Errors)}");
            }

            accepted += result.Accepted;
            duplicates += result.Duplicates;
        }

        logger.LogInformation("Demo usage: {Accepted} record(s) stored, {Duplicates} already present", accepted, duplicates);
    }

    private async Task SeedCommitments(CancellationToken cancellationToken)
    {
        var data = await Load<DemoData>("demo-commitments.json", cancellationToken);

        var added = 0;
        foreach (var deal in data.Commitments)
        {
            var id = deal.Create.CommitmentId!;
            await using var work = LedgerOutbox.Open(services);
            var (session, bus) = (work.Session, work.Bus);
            if (await session.Events.FetchStreamStateAsync(id, cancellationToken) is not null)
            {
                continue;
            }

            var user = Seeder.ToPrincipal();
            var request = new DefaultHttpContext().Request;
            Ensure(id, "create", await RecordCommitmentEndpoint.Post(deal.Create, session, bus, clock, user, cancellationToken));
            foreach (var step in deal.Then ?? [])
            {
                var result = step switch
                {
                    { Sign: { } s } => await SignCommitmentEndpoint.Post(id, s, session, bus, clock, user, request, cancellationToken),
                    { Decline: { } d } => await DeclineCommitmentEndpoint.Post(id, d, session, bus, clock, user, request, cancellationToken),
                    { Achieve: { } a } => await AchieveMilestoneEndpoint.Post(id, a.MilestoneId, new AchieveMilestoneRequest(a.AchievedOn, a.Evidence, null),
                        session, bus, clock, user, request, cancellationToken),
                    { Release: { } r } => await ReleaseTrancheEndpoint.Post(id, r.TrancheId, new ReleaseTrancheRequest(r.ReleasedOn, null),
                        session, bus, clock, user, request, cancellationToken),
                    _ => throw new InvalidOperationException($"Demo step for '{id}' names no action."),
                };
                Ensure(id, "step", result);
            }

            added++;
        }

        logger.LogInformation("Demo data: {Added} commitment(s) loaded, {Skipped} already present", added, data.Commitments.Count - added);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static void Ensure(string id, string what, IResult result)
    {
        if (result is IStatusCodeHttpResult { StatusCode: >= 300 } failed)
        {
            var detail = (result as IValueHttpResult)?.Value is Microsoft.AspNetCore.Mvc.ProblemDetails p ? p.Detail : null;
            throw new InvalidOperationException($"Demo data for '{id}' was refused at {what}: {failed.StatusCode} {detail}");
        }
    }
}
