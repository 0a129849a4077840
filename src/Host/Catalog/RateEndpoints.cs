using System.Security.Claims;
using ComputeLedger.Host.Commitments.Recording;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Projections.Catalog;
using ComputeLedger.Projections.Commitments;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Catalog;

public sealed record RateBody(string? Chip, string? Region, MoneyBody? PricePerChipHour);

public sealed record PublishRatesRequest(LocalDate? EffectiveFrom, List<RateBody?>? Rates);

/// <summary>Effective-dated rate cards: a provider's own, or a commitment's negotiated overrides.</summary>
public static class RateEndpoints
{
    [WolverinePost("/api/providers/{provider}/rates", OperationId = "PublishProviderRates")]
    [Tags("Catalog")]
    public static Task<IResult> PublishForProvider(string provider, PublishRatesRequest request, IDocumentSession session, IClock clock,
        ClaimsPrincipal user, CancellationToken ct) =>
        Publish(session, RateBookView.ProviderStream(provider), provider, null, request, clock, user, ct);

    [WolverinePost("/api/commitments/{id}/rates", OperationId = "PublishCommitmentRates")]
    [Tags("Catalog")]
    public static async Task<IResult> PublishForCommitment(string id, PublishRatesRequest request, IDocumentSession session, IClock clock,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var commitment = await session.LoadAsync<TrancheEligibility>(id, ct);
        return commitment is null
            ? Problems.NotFound($"No commitment '{id}' is recorded.")
            : await Publish(session, RateBookView.CommitmentStream(id), commitment.Provider, id, request, clock, user, ct);
    }

    [WolverineGet("/api/providers/{provider}/rates", OperationId = "GetProviderRates")]
    [Tags("Catalog")]
    public static async Task<IResult> GetForProvider(string provider, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<RateBookView>(RateBookView.ProviderStream(provider), ct) is { } book
            ? TypedResults.Ok(new { provider, cards = book.Cards })
            : Problems.NotFound($"Provider '{provider}' has no rate card.");

    private static async Task<IResult> Publish(IDocumentSession session, string stream, string provider, string? commitmentId,
        PublishRatesRequest request, IClock clock, ClaimsPrincipal user, CancellationToken ct)
    {
        var errors = new List<(string, string)>();
        if (request.EffectiveFrom is null)
        {
            errors.Add(("effectiveFrom", "effectiveFrom is required (yyyy-MM-dd): the first day the rates apply, UTC."));
        }

        if (request.Rates is not { Count: > 0 })
        {
            errors.Add(("rates", "rates must list at least one { chip, region, pricePerChipHour }."));
        }

        var known = (await session.Query<ChipView>().ToListAsync(ct)).ToDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);
        var rates = new List<ChipRate>();
        for (var i = 0; i < (request.Rates?.Count ?? 0); i++)
        {
            var rate = request.Rates![i];
            if (rate is null || string.IsNullOrWhiteSpace(rate.Chip))
            {
                errors.Add(($"rates[{i}].chip", "chip is required."));
                continue;
            }

            if (!known.TryGetValue(rate.Chip, out var chip))
            {
                errors.Add(($"rates[{i}].chip", $"chip '{rate.Chip}' is not in the catalog; add it with POST /api/chips first."));
                continue;
            }

            var price = RecordCommitmentEndpoint.RequireMoney(rate.PricePerChipHour, $"rates[{i}].pricePerChipHour", errors);
            if (price is not null)
            {
                rates.Add(new ChipRate(chip.Name, string.IsNullOrWhiteSpace(rate.Region) ? null : rate.Region.Trim(), price.Value));
            }
        }

        if (rates.GroupBy(r => (r.Chip, r.Region)).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            errors.Add(("rates", $"chip '{twice.Key.Chip}' in region '{twice.Key.Region ?? "any"}' is priced twice in one card."));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var card = new RateCardPublished(provider, commitmentId, request.EffectiveFrom!.Value, rates, clock.GetCurrentInstant(), Caller.From(user).Name);
        session.Events.Append(stream, card);
        await session.SaveChangesAsync(ct);
        var book = await session.LoadAsync<RateBookView>(stream, ct);
        return TypedResults.Created(commitmentId is null ? $"/api/providers/{provider}/rates" : $"/api/commitments/{commitmentId}/rates",
            new { provider, commitmentId, cards = book!.Cards });
    }
}
