using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using ComputeLedger.Host.Infrastructure;
using Microsoft.AspNetCore.Http.Features;

namespace ComputeLedger.Host.Usage.Ingesting;

/// <summary>What a compute.usage.v1 CloudEvent carries in <c>data</c>; the rest of a record comes from its attributes.</summary>
public sealed record CloudEventUsageData(string? Provider, string? Chip, string? Region, decimal? ChipHours, Instant? End, long? Tokens);

/// <summary>
/// Reads usage sent as CloudEvents 1.0 in structured JSON mode, with the CNCF SDK: <c>application/cloudevents-batch+json</c>
/// (an array) or <c>application/cloudevents+json</c> (one event). Each event becomes the record the JSON and NDJSON bodies
/// give, so the same rules, limits, scoping and answers apply:
/// <c>subject</c> is the commitment id, <c>time</c> the window start, <c>data</c> holds provider, chip, region, chipHours,
/// end and tokens, and the usageId is <see cref="UsageId"/> of <c>source</c> and <c>id</c>. An event whose type is not
/// <see cref="UsageType"/>, or whose data is not such an object, is rejected on its own (it stands as a null record,
/// explained by <see cref="Explain"/>); an envelope the SDK refuses (specversion other than 1.0, a required attribute
/// missing) fails the batch with a 400, as malformed JSON does.
/// </summary>
public static class CloudEventsUsageReader
{
    public const string UsageType = "compute.usage.v1";
    public const string BatchMediaType = "application/cloudevents-batch+json";
    public const string EventMediaType = "application/cloudevents+json";

    private static readonly JsonEventFormatter Formatter = new(Json.Options, new JsonDocumentOptions { MaxDepth = 64 });

    /// <summary>Set on the request by <see cref="Read"/>: why each event that could not become a record was rejected.</summary>
    private const string RejectionsKey = "ledger.cloudevents.rejections";

    public static bool Handles(HttpRequest request) => MediaType(request) is BatchMediaType or EventMediaType;

    /// <summary>
    /// The documented usageId of an event: <c>ce-</c> and the lowercase hex SHA-256 of the UTF-8 bytes of
    /// <c>source</c>, one NUL byte, and <c>id</c> (<c>printf 'ce-'; printf '%s\0%s' "$source" "$id" | sha256sum</c>).
    /// The CloudEvents spec makes source+id unique per event, so a re-sent event is a duplicate forever.
    /// </summary>
    public static string UsageId(string source, string id) =>
        "ce-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source + "\0" + id)));

    public static async Task<(IReadOnlyList<UsageRecordBody?>? Records, IResult? Problem)> Read(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > IngestUsageEndpoint.MaxBytes)
        {
            return (null, TooLarge($"The body is {request.ContentLength} bytes; the limit is 16 MiB. Split the batch."));
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = IngestUsageEndpoint.MaxBytes + 1;
        }

        var body = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, ct)) > 0)
        {
            if (body.Length + read > IngestUsageEndpoint.MaxBytes)
            {
                return (null, TooLarge("The body is larger than 16 MiB. Split the batch."));
            }

            body.Write(buffer, 0, read);
        }

        IReadOnlyList<CloudEvent> events;
        try
        {
            var contentType = new System.Net.Mime.ContentType(request.ContentType!);
            events = MediaType(request) == BatchMediaType
                ? Formatter.DecodeBatchModeMessage(body.GetBuffer().AsMemory(0, (int)body.Length), contentType, null)
                : [Formatter.DecodeStructuredModeMessage(body.GetBuffer().AsMemory(0, (int)body.Length), contentType, null)];
        }
        catch (Exception e) when (e is ArgumentException or JsonException or FormatException or InvalidOperationException)
        {
            return (null, Problems.Invalid([("body", $"the CloudEvents body could not be read: {Plain(e.Message)} " +
                "Send CloudEvents 1.0 in structured JSON mode (specversion, id, source, type required). Nothing of the batch was stored; fix it and resend the batch.")]));
        }

        if (events.Count > IngestUsageEndpoint.MaxRecords)
        {
            return (null, TooLarge($"The batch has {events.Count} events; the limit is {IngestUsageEndpoint.MaxRecords}. Split it."));
        }

        var records = new List<UsageRecordBody?>(events.Count);
        var rejections = new Dictionary<int, RejectedRecord>();
        for (var i = 0; i < events.Count; i++)
        {
            var (record, errors) = ToRecord(events[i]);
            records.Add(record);
            if (record is null)
            {
                rejections[i] = new RejectedRecord(i, UsageIdOf(events[i]), errors);
            }
        }

        request.HttpContext.Items[RejectionsKey] = rejections;
        return (records, null);
    }

    /// <summary>Puts the reasons of events that never became records in place of the null-record rejection they got.</summary>
    public static IngestResult Explain(HttpRequest request, IngestResult result) =>
        request.HttpContext.Items[RejectionsKey] is Dictionary<int, RejectedRecord> { Count: > 0 } rejections
            ? result with { Rejected = result.Rejected.Select(r => rejections.GetValueOrDefault(r.Index, r)).ToList() }
            : result;

    private static (UsageRecordBody? Record, IReadOnlyList<string> Errors) ToRecord(CloudEvent e)
    {
        var errors = new List<string>();
        if (e.Type != UsageType)
        {
            errors.Add($"type must be '{UsageType}'; got {Quote(e.Type)}.");
        }

        var source = e.Source?.OriginalString ?? "";
        if (Limits.Text(source) is not null || source.Length > Limits.MaxIdLength * 4)
        {
            errors.Add($"source must be at most {Limits.MaxIdLength * 4} characters without control characters; got {Quote(source)}.");
        }

        // The event id is held to the usageId rule: it names the record to the metering job as usageId does to a JSON client.
        if (e.Id is not { } id || Limits.Id(id) is { } badId)
        {
            errors.Add($"id {(e.Id is null ? "is required." : Limits.Id(e.Id))}");
        }

        CloudEventUsageData? data = null;
        if (e.Data is JsonElement { ValueKind: JsonValueKind.Object } element)
        {
            try
            {
                data = element.Deserialize<CloudEventUsageData>(Json.Options);
            }
            catch (JsonException ex)
            {
                var (field, message) = JsonShape.Explain(typeof(CloudEventUsageData), ex, "data.");
                errors.Add($"{field}: {message}");
            }
        }
        else
        {
            errors.Add("data must be a JSON object with provider, chip, region, chipHours, end and tokens.");
        }

        if (errors.Count > 0 || data is null)
        {
            return (null, errors);
        }

        return (new UsageRecordBody(UsageId(source, e.Id!), e.Subject, data.Provider, data.Chip, data.Region, data.ChipHours,
            e.Time is { } time ? Instant.FromDateTimeOffset(time) : null, data.End, data.Tokens), []);
    }

    private static string? UsageIdOf(CloudEvent e) =>
        e.Source is { } source && e.Id is { } id && Limits.Id(id) is null && Limits.Text(source.OriginalString) is null && source.OriginalString.Length <= Limits.MaxIdLength * 4
            ? UsageId(source.OriginalString, id)
            : null;

    private static string? MediaType(HttpRequest request) => request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();

    private static string Quote(string? value) => value is null ? "nothing" : $"'{(value.Length > 80 ? value[..80] + "…" : value)}'";

    /// <summary>The SDK's messages may quote the body; keep them to one short line.</summary>
    private static string Plain(string message)
    {
        var line = message.Split('\n')[0].Trim();
        return line.Length > 300 ? line[..300] + "…" : line;
    }

    private static IResult TooLarge(string detail) =>
        Problems.Status(StatusCodes.Status413PayloadTooLarge, "Usage batch too large", detail + " Nothing was stored.");
}
