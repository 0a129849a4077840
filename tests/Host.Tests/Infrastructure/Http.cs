using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ComputeLedger.Host.Tests.Infrastructure;

/// <summary>Plain HTTP with JSON text, as a client outside the process would send it.</summary>
public static class Http
{
    public sealed record Reply(HttpStatusCode Status, JsonNode? Body, HttpResponseHeaders Headers, string? ContentType)
    {
        public int Code => (int)Status;

        public JsonNode Json => Body ?? throw new InvalidOperationException($"{Code}: no JSON body");

        public override string ToString() => $"{Code} {Body?.ToJsonString()}";
    }

    public static async Task<Reply> PostJson(this HttpClient client, string url, object? body, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        if (body is not null)
        {
            var text = body as string ?? JsonSerializer.Serialize(body, JsonOptions);
            request.Content = new StringContent(text, Encoding.UTF8, "application/json");
        }

        foreach (var (k, v) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(k, v);
        }

        return await Send(client, request);
    }

    public static async Task<Reply> GetJson(this HttpClient client, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        return await Send(client, request);
    }

    private static async Task<Reply> Send(HttpClient client, HttpRequestMessage request)
    {
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var contentType = response.Content.Headers.ContentType?.MediaType;
        JsonNode? json = null;
        if (!string.IsNullOrWhiteSpace(text) && contentType is not null && contentType.Contains("json", StringComparison.Ordinal))
        {
            json = JsonNode.Parse(text);
        }

        return new Reply(response.StatusCode, json, response.Headers, contentType);
    }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public static decimal Amount(this JsonNode? money) => money!["amount"]!.GetValue<decimal>();
}
