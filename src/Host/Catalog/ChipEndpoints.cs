using System.Security.Claims;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Projections.Catalog;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Catalog;

public sealed record AddChipRequest(string? Name, string? Vendor, string? Purpose, string? Description);

public static class ChipEndpoints
{
    [WolverineGet("/api/chips", OperationId = "ListChips")]
    [Tags("Catalog")]
    public static async Task<IReadOnlyList<ChipView>> List(IQuerySession session, CancellationToken ct) =>
        await session.Query<ChipView>().OrderBy(c => c.Name).ToListAsync(ct);

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
