using System.Security.Claims;
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
    private const int MaxLines = 1_000;

    [WolverinePost("/api/providers/{provider}/rates", OperationId = "PublishProviderRates")]
    [Tags("Catalog")]
    public static async Task<IResult> PublishForProvider(string provider, PublishRatesRequest? request, IDocumentSession session, IClock clock,
        ClaimsPrincipal user, CancellationToken ct)
    {
        // A card for a provider no commitment names could never price anything: most likely a typo of a real one.
        if (Limits.Name(provider) is { } wrong)
        {
            return Problems.Invalid("provider", $"provider {wrong}");
        }

        if (!await session.Query<TrancheEligibility>().AnyAsync(c => c.Provider == provider, ct))
        {
            return Problems.NotFound($"No commitment is with provider '{provider}'; record one first (POST /api/commitments). Provider names are case-sensitive.");
        }

        return await Publish(session, RateBookView.ProviderStream(provider), provider, null, request, clock, user, ct);
    }

    [WolverinePost("/api/commitments/{id}/rates", OperationId = "PublishCommitmentRates")]
    [Tags("Catalog")]
    public static async Task<IResult> PublishForCommitment(string id, PublishRatesRequest? request, IDocumentSession session, IClock clock,
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
        PublishRatesRequest? request, IClock clock, ClaimsPrincipal user, CancellationToken ct)
    {
        if (request is null)
        {
            return Problems.Invalid("body", "the body must be a JSON object: { \"effectiveFrom\": \"2025-01-01\", \"rates\": [ { \"chip\": …, \"region\": …, \"pricePerChipHour\": { \"amount\": 4.1, \"currency\": \"USD\" } } ] }.");
        }

        var errors = new List<(string, string)>();
        var effectiveFrom = Fields.Date(request.EffectiveFrom, "effectiveFrom", errors, why: "the first day the rates apply, UTC");

        if (request.Rates is not { Count: > 0 })
        {
            errors.Add(("rates", "rates must list at least one { chip, region, pricePerChipHour }."));
        }
        else if (request.Rates.Count > MaxLines)
        {
            errors.Add(("rates", $"a card has at most {MaxLines} lines; got {request.Rates.Count}. Publish several cards."));
            return Problems.Invalid(errors);
        }

        var known = (await session.Query<ChipView>().ToListAsync(ct)).ToDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);
        var rates = new List<ChipRate>();
        for (var i = 0; i < (request.Rates?.Count ?? 0); i++)
        {
            var rate = request.Rates![i];
            if (rate is null)
            {
                errors.Add(($"rates[{i}]", "a rate line cannot be null."));
                continue;
            }

            var region = Fields.Id(rate.Region, $"rates[{i}].region", errors, required: false);
            if (Fields.Id(rate.Chip, $"rates[{i}].chip", errors) is not { } chipName)
            {
                continue;
            }

            if (!known.TryGetValue(chipName, out var chip))
            {
                errors.Add(($"rates[{i}].chip", $"chip '{rate.Chip}' is not in the catalog; add it with POST /api/chips first."));
                continue;
            }

            var price = Fields.Money(rate.PricePerChipHour, $"rates[{i}].pricePerChipHour", errors, Precision.Price);
            if (price is not null)
            {
                rates.Add(new ChipRate(chip.Name, region, price.Value));
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

        var location = commitmentId is null ? $"/api/providers/{Uri.EscapeDataString(provider)}/rates" : $"/api/commitments/{commitmentId}/rates";
        var existing = await session.LoadAsync<RateBookView>(stream, ct);
        if (existing?.Cards.LastOrDefault(c => c.EffectiveFrom == effectiveFrom) is { } last && last.Rates.Count == rates.Count && last.Rates.All(rates.Contains))
        {
            // The same card as the latest of its date (a retried request, a re-run script) is in force already: nothing is recorded.
            return TypedResults.Ok(new { provider, commitmentId, cards = existing.Cards });
        }

        var card = new RateCardPublished(provider, commitmentId, effectiveFrom!.Value, rates, clock.GetCurrentInstant(), Caller.From(user).Name);
        session.Events.Append(stream, card);
        await session.SaveChangesAsync(ct);
        var book = await session.LoadAsync<RateBookView>(stream, ct);
        return TypedResults.Created(location, new { provider, commitmentId, cards = book!.Cards });
    }
}
