using System.Security.Claims;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Projections.Catalog;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Catalog;

public sealed record AddChipRequest(string? Name, string? Vendor, string? Purpose, string? Description);

public sealed record PublishChipSpecsRequest(
    LocalDate? EffectiveFrom, decimal? Fp16Tflops, decimal? InferenceLatencyMs, MoneyBody? ListCostPer1MTokens, decimal? TflopsPerWatt, string? Source);

/// <summary>One publication of a chip's figures as clients read it; an unknown figure is null.</summary>
public sealed record ChipSpecsResponse(
    LocalDate EffectiveFrom, decimal? Fp16Tflops, decimal? InferenceLatencyMs, Money? ListCostPer1MTokens, decimal? TflopsPerWatt, string? Source,
    Instant RecordedAt)
{
    public static ChipSpecsResponse From(ChipSpecsPublished p) => new(
        p.EffectiveFrom, p.Specs.Fp16Tflops, p.Specs.InferenceLatencyMs, p.Specs.ListCostPer1MTokens, p.Specs.TflopsPerWatt, p.Specs.Source, p.RecordedAt);
}

/// <summary>A chip of the catalog: <c>specs</c> are the figures in force today, <c>specHistory</c> every publication.</summary>
public sealed record ChipResponse(
    string Name, string Vendor, string Purpose, string? Description, Instant AddedAt, ChipSpecsResponse? Specs, IReadOnlyList<ChipSpecsResponse> SpecHistory)
{
    public static ChipResponse From(ChipView chip, LocalDate today) => new(
        chip.Name, chip.Vendor, chip.Purpose, chip.Description, chip.AddedAt,
        ChipSpecBook.InForce(chip.Specs, today, null) is { } current ? ChipSpecsResponse.From(current) : null,
        chip.Specs.OrderBy(p => p.EffectiveFrom).ThenBy(p => p.RecordedAt).Select(ChipSpecsResponse.From).ToList());
}

public static class ChipEndpoints
{
    [WolverineGet("/api/chips", OperationId = "ListChips")]
    [Tags("Catalog")]
    public static async Task<IReadOnlyList<ChipResponse>> List(IQuerySession session, IClock clock, CancellationToken ct)
    {
        var today = clock.GetCurrentInstant().InUtc().Date;
        return (await session.Query<ChipView>().OrderBy(c => c.Name).ToListAsync(ct)).Select(c => ChipResponse.From(c, today)).ToList();
    }

    [WolverinePost("/api/chips/{name}/specs", OperationId = "PublishChipSpecs")]
    [Tags("Catalog")]
    public static async Task<IResult> PublishSpecs(string name, PublishChipSpecsRequest? request, IDocumentSession session, IClock clock,
        ClaimsPrincipal user, CancellationToken ct)
    {
        if (Limits.Id(name) is not null)
        {
            return Problems.NotFound($"No chip '{name}' is in the catalog.");
        }

        if (request is null)
        {
            return Problems.Invalid("body", "the body must be a JSON object: { \"effectiveFrom\": \"2025-01-01\", \"fp16Tflops\": 989, \"tflopsPerWatt\": 1.8, \"listCostPer1MTokens\": { \"amount\": 2.00, \"currency\": \"USD\" } }.");
        }

        var errors = new List<(string, string)>();
        var effectiveFrom = Fields.Date(request.EffectiveFrom, "effectiveFrom", errors, why: "the first day the figures apply, UTC");
        var tflops = Fields.ChipFigure(request.Fp16Tflops, "fp16Tflops", errors);
        var latency = Fields.ChipFigure(request.InferenceLatencyMs, "inferenceLatencyMs", errors);
        var perWatt = Fields.ChipFigure(request.TflopsPerWatt, "tflopsPerWatt", errors);
        var listCost = request.ListCostPer1MTokens is null ? null : Fields.Money(request.ListCostPer1MTokens, "listCostPer1MTokens", errors, Precision.Price);
        var source = Fields.Text(request.Source, "source", errors);
        if (errors.Count == 0 && tflops is null && latency is null && perWatt is null && listCost is null)
        {
            errors.Add(("fp16Tflops", "give at least one figure: fp16Tflops, inferenceLatencyMs, listCostPer1MTokens or tflopsPerWatt (unknown ones are left out)."));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var stream = ChipView.StreamOf(name);
        if (await session.LoadAsync<ChipView>(stream, ct) is not { } chip)
        {
            return Problems.NotFound($"No chip '{name}' is in the catalog; add it first (POST /api/chips).");
        }

        var events = PublishChipSpecs.Decide(chip.Name, effectiveFrom!.Value, new ChipSpecs(tflops, latency, listCost, perWatt, source), chip.Specs,
            clock.GetCurrentInstant(), Caller.From(user).Name);
        if (events.Count == 0)
        {
            return TypedResults.Ok(ChipResponse.From(chip, clock.GetCurrentInstant().InUtc().Date));
        }

        session.Events.Append(stream, events);
        await session.SaveChangesAsync(ct);
        var stored = await session.LoadAsync<ChipView>(stream, ct);
        return TypedResults.Created($"/api/chips/{chip.Name}", ChipResponse.From(stored!, clock.GetCurrentInstant().InUtc().Date));
    }

    [WolverinePost("/api/chips", OperationId = "AddChip")]
    [Tags("Catalog")]
    public static async Task<IResult> Add(AddChipRequest? request, IDocumentSession session, IClock clock, ClaimsPrincipal user, CancellationToken ct)
    {
        if (request is null)
        {
            return Problems.Invalid("body", "the body must be a JSON object: { \"name\": \"B200\", \"vendor\": \"NVIDIA\", \"purpose\": \"training\" }.");
        }

        var errors = new List<(string, string)>();
        var name = Fields.Id(request.Name, "name", errors);
        if (string.IsNullOrWhiteSpace(request.Vendor))
        {
            errors.Add(("vendor", "vendor is required, e.g. AWS or NVIDIA."));
        }

        var vendor = Fields.Name(request.Vendor, "vendor", errors, required: false);
        var purpose = string.IsNullOrWhiteSpace(request.Purpose) ? "general" : request.Purpose.Trim().ToLowerInvariant();
        if (!ChipDefinition.Purposes.Contains(purpose))
        {
            errors.Add(("purpose", $"purpose must be one of {string.Join(", ", ChipDefinition.Purposes)} (or left out for general)."));
        }

        var description = Fields.Text(request.Description, "description", errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var stream = ChipView.StreamOf(name!);
        if (await session.Events.FetchStreamStateAsync(stream, ct) is not null)
        {
            return Problems.Conflict($"Chip '{name}' is already in the catalog.");
        }

        var chip = new ChipDefinition(name!, vendor!, purpose, description);
        session.Events.StartStream(stream, new ChipAdded(chip, clock.GetCurrentInstant(), Caller.From(user).Name));
        await session.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/chips/{name}", await session.LoadAsync<ChipView>(stream, ct));
    }
}
