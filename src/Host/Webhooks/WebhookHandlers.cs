using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ComputeLedger.Contracts;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Infrastructure.Telemetry;
using ComputeLedger.Host.Integration;
using Marten;
using Wolverine;

namespace ComputeLedger.Host.Webhooks;

/// <summary>
/// Turns each integration event into one delivery per matching webhook. It runs from a durable local queue after the
/// ledger transaction committed, so a slow receiver never holds up ingestion; each delivery is then its own message.
/// </summary>
public static class WebhookFanOutHandler
{
    public static Task Handle(Contracts.CommitmentSigned m, IDocumentSession s, IMessageContext b, IClock c, CancellationToken ct) => FanOut(m, s, b, c, ct);
    public static Task Handle(Contracts.CommitmentDeclined m, IDocumentSession s, IMessageContext b, IClock c, CancellationToken ct) => FanOut(m, s, b, c, ct);
    public static Task Handle(Contracts.MilestoneAchieved m, IDocumentSession s, IMessageContext b, IClock c, CancellationToken ct) => FanOut(m, s, b, c, ct);
    public static Task Handle(TrancheBecameEligible m, IDocumentSession s, IMessageContext b, IClock c, CancellationToken ct) => FanOut(m, s, b, c, ct);
    public static Task Handle(Contracts.TrancheReleased m, IDocumentSession s, IMessageContext b, IClock c, CancellationToken ct) => FanOut(m, s, b, c, ct);
    public static Task Handle(Contracts.DrawdownThresholdCrossed m, IDocumentSession s, IMessageContext b, IClock c, CancellationToken ct) => FanOut(m, s, b, c, ct);

    private static async Task FanOut(ILedgerIntegrationEvent message, IDocumentSession session, IMessageContext bus, IClock clock, CancellationToken ct)
    {
        var type = message.GetType().Name;
        var webhooks = await session.Query<Webhook>().ToListAsync(ct);
        var body = JsonSerializer.Serialize(new { type, id = message.Id, data = (object)message }, Json.Options);
        foreach (var webhook in webhooks.Where(w => w.EventTypes.Contains(type, StringComparer.Ordinal)))
        {
            var id = IntegrationEvents.StableId(webhook.Id.ToString(), 0, $"delivery:{message.Id}");
            if (await session.LoadAsync<WebhookDelivery>(id, ct) is not null)
            {
                continue; // the event was redelivered: its delivery exists already
            }

            session.Insert(new WebhookDelivery
            {
                Id = id, WebhookId = webhook.Id, MessageId = message.Id, Type = type, Body = body,
                Status = DeliveryStatus.Pending, CreatedAt = clock.GetCurrentInstant(),
            });
            await bus.PublishAsync(new DeliverWebhook(id));
        }

        await session.SaveChangesAsync(ct);
    }
}

/// <summary>
/// One attempt: POST the body, signed, to the receiver. A 2xx ends it. Anything else is logged in the delivery and a
/// retry is scheduled after the next backoff step, in the same transaction; after the last step the delivery is Failed.
/// </summary>
public static class DeliverWebhookHandler
{
    public const string HttpClientName = "webhooks";

    public static async Task Handle(DeliverWebhook command, IDocumentSession session, IMessageContext bus, IHttpClientFactory http, WebhookOptions options,
        IClock clock, ILogger<WebhookDelivery> logger, CancellationToken ct)
    {
        if (await session.LoadAsync<WebhookDelivery>(command.DeliveryId, ct) is not { Status: DeliveryStatus.Pending } delivery)
        {
            return;
        }

        var webhook = await session.LoadAsync<Webhook>(delivery.WebhookId, ct);
        if (webhook is null)
        {
            delivery.Status = DeliveryStatus.Cancelled;
            delivery.NextAttemptAt = null;
            session.Store(delivery);
            await session.SaveChangesAsync(ct);
            return;
        }

        var body = Encoding.UTF8.GetBytes(delivery.Body);
        var number = delivery.Attempts.Count + 1;
        var started = Stopwatch.GetTimestamp();
        int? status = null;
        string? error = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
            request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(webhook.Secret, body));
            request.Headers.Add("X-Ledger-Event-Type", delivery.Type);
            request.Headers.Add("X-Ledger-Message-Id", delivery.MessageId.ToString());
            request.Headers.Add("X-Ledger-Delivery", $"{delivery.Id}/{number}");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.Timeout);
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                error = $"receiver answered {status}";
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            error = e is TaskCanceledException ? $"no answer within {options.Timeout.TotalSeconds:0.#}s" : e.Message;
        }

        var now = clock.GetCurrentInstant();
        delivery.Attempts.Add(new DeliveryAttempt(number, now, status, error, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds));
        if (error is null)
        {
            delivery.Status = DeliveryStatus.Delivered;
            delivery.DeliveredAt = now;
            delivery.NextAttemptAt = null;
        }
        else if (number <= options.Backoff.Count)
        {
            var wait = options.Backoff[number - 1];
            delivery.NextAttemptAt = now.Plus(Duration.FromTimeSpan(wait));
            await bus.ScheduleAsync(new DeliverWebhook(delivery.Id), wait);
            logger.LogInformation("Webhook delivery {Delivery} attempt {Attempt} failed ({Error}); retrying in {Wait}", delivery.Id, number, error, wait);
        }
        else
        {
            delivery.Status = DeliveryStatus.Failed;
            delivery.NextAttemptAt = null;
            logger.LogWarning("Webhook delivery {Delivery} failed after {Attempts} attempts: {Error}", delivery.Id, number, error);
        }

        LedgerMetrics.WebhookAttempt(delivery.Status switch { DeliveryStatus.Delivered => "delivered", DeliveryStatus.Failed => "failed", _ => "retrying" }, number);
        session.Store(delivery);
        await session.SaveChangesAsync(ct);
    }
}
