using System.Security.Claims;
using ComputeLedger.Contracts;
using ComputeLedger.Host.Infrastructure;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Webhooks;

public sealed record RegisterWebhookRequest(string? Url, List<string?>? EventTypes, string? Secret);

public sealed record WebhookView(Guid Id, string Url, IReadOnlyList<string> EventTypes, Instant CreatedAt, string CreatedBy)
{
    public static WebhookView From(Webhook w) => new(w.Id, w.Url, w.EventTypes, w.CreatedAt, w.CreatedBy);
}

public sealed record DeliveryLog(Guid WebhookId, string Url, IReadOnlyList<WebhookDelivery> Deliveries);

/// <summary>Webhook registration and the delivery log; admin keys only (ApiKeyMiddleware: a webhook carries a signing secret and a target URL).</summary>
public static class WebhookEndpoints
{
    [WolverinePost("/api/webhooks", OperationId = "RegisterWebhook")]
    [Tags("Webhooks")]
    public static async Task<IResult> Register(RegisterWebhookRequest? request, IDocumentSession session, WebhookOptions options, IClock clock,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var errors = new List<(string, string)>();
        if (options.Refusal(request?.Url) is { } refusal)
        {
            errors.Add(("url", refusal));
        }

        var types = request?.EventTypes ?? [];
        if (types.Count > IntegrationEventTypes.ByName.Count * 2)
        {
            errors.Add(("eventTypes", $"eventTypes lists {types.Count} entries; there are only {IntegrationEventTypes.ByName.Count} event types."));
        }
        else if (types.Count == 0)
        {
            errors.Add(("eventTypes", $"eventTypes must name at least one of: {string.Join(", ", IntegrationEventTypes.ByName.Keys)}."));
        }
        else
        {
            foreach (var unknown in types.Where(t => t is null || !IntegrationEventTypes.ByName.ContainsKey(t)))
            {
                // Echo a name back only when it is one a person could have typed.
                var shown = unknown is { Length: <= 64 } && Limits.Id(unknown) is null ? $"'{unknown}'" : "an entry";
                errors.Add(("eventTypes", $"{shown} is not an event type; use any of: {string.Join(", ", IntegrationEventTypes.ByName.Keys)}."));
            }
        }

        if (string.IsNullOrWhiteSpace(request?.Secret))
        {
            errors.Add(("secret", "secret is required: every delivery is signed with it (HMAC-SHA256). Use a long random value, e.g. 32 random bytes in hex."));
        }
        else if (Limits.Secret(request.Secret) is { } weak)
        {
            errors.Add(("secret", $"secret {weak}"));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var webhook = new Webhook
        {
            Id = Guid.CreateVersion7(),
            Url = request!.Url!,
            EventTypes = [.. types.OfType<string>().Distinct(StringComparer.Ordinal)],
            Secret = request.Secret!,
            CreatedAt = clock.GetCurrentInstant(),
            CreatedBy = Caller.From(user).Name,
        };
        session.Store(webhook);
        await session.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/webhooks/{webhook.Id}", WebhookView.From(webhook));
    }

    [WolverineGet("/api/webhooks", OperationId = "ListWebhooks")]
    [Tags("Webhooks")]
    public static async Task<IResult> List(IQuerySession session, CancellationToken ct) =>
        TypedResults.Ok(new { webhooks = (await session.Query<Webhook>().OrderBy(w => w.CreatedAt).ToListAsync(ct)).Select(WebhookView.From) });

    [WolverineDelete("/api/webhooks/{id}", OperationId = "DeleteWebhook")]
    [Tags("Webhooks")]
    public static async Task<IResult> Delete(Guid id, IDocumentSession session, CancellationToken ct)
    {
        if (await session.LoadAsync<Webhook>(id, ct) is null)
        {
            return Problems.NotFound($"No webhook '{id}' is registered.");
        }

        session.Delete<Webhook>(id);
        await session.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    [WolverineGet("/api/webhooks/{id}/deliveries", OperationId = "WebhookDeliveries")]
    [Tags("Webhooks")]
    public static async Task<IResult> Deliveries(Guid id, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<Webhook>(id, ct) is not { } webhook)
        {
            return Problems.NotFound($"No webhook '{id}' is registered.");
        }

        var deliveries = await session.Query<WebhookDelivery>().Where(d => d.WebhookId == id).OrderByDescending(d => d.CreatedAt).Take(500).ToListAsync(ct);
        return TypedResults.Ok(new DeliveryLog(id, webhook.Url, deliveries));
    }
}
