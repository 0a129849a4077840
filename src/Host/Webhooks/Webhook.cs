namespace ComputeLedger.Host.Webhooks;

/// <summary>A registered receiver of integration events. The secret signs every delivery and is never returned.</summary>
public sealed class Webhook
{
    public Guid Id { get; set; }
    public string Url { get; set; } = "";
    public List<string> EventTypes { get; set; } = [];
    public string Secret { get; set; } = "";
    public Instant CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
}

public enum DeliveryStatus
{
    Pending,
    Delivered,
    Failed,
    Cancelled,
}

public sealed record DeliveryAttempt(int Number, Instant At, int? StatusCode, string? Error, long DurationMs);

/// <summary>
/// One integration event for one webhook, and every attempt to deliver it. Its id is derived from the webhook and the
/// message's stable id, so a redelivered event never makes a second delivery. The body is fixed when the delivery is
/// created: every attempt sends the same bytes with the same signature.
/// </summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; set; }
    public Guid WebhookId { get; set; }
    public Guid MessageId { get; set; }
    public string Type { get; set; } = "";
    public string Body { get; set; } = "";
    public DeliveryStatus Status { get; set; }
    public Instant CreatedAt { get; set; }
    public Instant? DeliveredAt { get; set; }
    public Instant? NextAttemptAt { get; set; }
    public List<DeliveryAttempt> Attempts { get; set; } = [];
}

/// <summary>The message that makes one delivery attempt.</summary>
public sealed record DeliverWebhook(Guid DeliveryId);
