using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComputeLedger.Host.Tests.Usage;

namespace ComputeLedger.Host.Tests.Faults;

/// <summary>One usage record as the client sent it, with the amount the rate card above must price it at.</summary>
public sealed record SentRecord(string UsageId, string Chip, string Region, int ChipHours, DateTimeOffset Start, long Tokens, decimal Amount)
{
    public string Month => Start.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    public Dictionary<string, object?> Body => UsageTest.Record(UsageId, ChipHours, Chip, Region,
        Start.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        Start.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture), tokens: Tokens);
}

/// <summary>The answer that acknowledged a batch: how many of its records were new and how many already stored.</summary>
public sealed record Acknowledgement(int Batch, int Accepted, int Duplicates, int Attempts);

/// <summary>
/// A client that ingests a fixed set of batches, a few at a time, and retries each one until it is acknowledged (a 200
/// for all its records), after a 503 or a connection error, as the API tells clients to. Half the batches go as NDJSON,
/// half as JSON. It counts what went wrong, so a test can wait for a fault to have hit ingestion and can refuse any
/// answer other than 200 or 503.
/// </summary>
public sealed class RetryingIngestion(Func<Uri> address, int batches, int batchSize, int concurrency)
{
    private readonly ConcurrentDictionary<int, Acknowledgement> _acks = new();
    private readonly ConcurrentQueue<string> _unexpected = new();
    private int _failedAttempts;
    private int _serviceUnavailable;
    private int _connectionErrors;

    /// <summary>
    /// Every record, deterministic: Trainium2 in us-east-1 (3.50 USD per chip-hour), Trainium2 in eu-west-1 (4.00, the
    /// card's any-region line) and Inferentia2 (1.25), whole chip-hours so every amount is exact to the cent, windows
    /// spread over July to September 2025.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<SentRecord>> Batches { get; } = [.. Enumerable.Range(0, batches).Select(b =>
        (IReadOnlyList<SentRecord>)[.. Enumerable.Range(0, batchSize).Select(i => Make(b * batchSize + i))])];

    public IEnumerable<SentRecord> Records => Batches.SelectMany(b => b);

    public int Acknowledged => _acks.Count;

    public IReadOnlyCollection<Acknowledgement> Acknowledgements => [.. _acks.Values.OrderBy(a => a.Batch)];

    /// <summary>Attempts that got a 503 or no answer (connection refused or reset, timeout).</summary>
    public int FailedAttempts => Volatile.Read(ref _failedAttempts);

    public int ServiceUnavailable => Volatile.Read(ref _serviceUnavailable);

    /// <summary>Attempts that got no HTTP answer at all: refused, reset, or no answer within the client's timeout.</summary>
    public int ConnectionErrors => Volatile.Read(ref _connectionErrors);

    /// <summary>Answers a client must never see for a well-formed batch: anything but 200 and 503, or a 503 without Retry-After.</summary>
    public IReadOnlyCollection<string> Unexpected => [.. _unexpected];

    private static SentRecord Make(int n)
    {
        var (chip, region, price) = (n % 3) switch
        {
            0 => ("Trainium2", "us-east-1", 3.50m),
            1 => ("Trainium2", "eu-west-1", 4.00m),
            _ => ("Inferentia2", "us-east-1", 1.25m),
        };
        var hours = n % 8 + 1;
        var start = new DateTimeOffset(2025, 7, 1, 0, 0, 0, TimeSpan.Zero).AddDays(n % 92).AddHours(n % 24);
        return new SentRecord($"fault-{n:D6}", chip, region, hours, start, 1_000 + n, hours * price);
    }

    /// <summary>Posts every batch until each is acknowledged; fails when <paramref name="ct"/> ends first.</summary>
    public async Task Run(CancellationToken ct)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", "dev-ingest");
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            for (var b = Interlocked.Increment(ref next); b < Batches.Count; b = Interlocked.Increment(ref next))
            {
                await PostUntilAcknowledged(client, b, ct);
            }
        }));
    }

    /// <summary>Waits, polling, until <paramref name="condition"/> holds; a timeout names what was awaited.</summary>
    public static async Task Until(Func<bool> condition, string what, TimeSpan timeout, CancellationToken ct)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (waited.Elapsed > timeout)
            {
                throw new TimeoutException($"not within {timeout.TotalSeconds} s: {what}");
            }

            await Task.Delay(20, ct);
        }
    }

    private async Task PostUntilAcknowledged(HttpClient client, int batch, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan pause;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(address(), "/api/usage")) { Content = Content(batch) };
                using var response = await client.SendAsync(request, ct);
                var text = await response.Content.ReadAsStringAsync(ct);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var body = JsonNode.Parse(text)!;
                    var rejected = body["rejected"]!.AsArray();
                    if (rejected.Count > 0)
                    {
                        _unexpected.Enqueue($"batch {batch}: 200 with rejected records {rejected.ToJsonString()}");
                    }

                    _acks[batch] = new Acknowledgement(batch, body["accepted"]!.GetValue<int>(), body["duplicates"]!.GetValue<int>(), attempt);
                    return;
                }

                if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                {
                    _unexpected.Enqueue($"batch {batch}: {(int)response.StatusCode} {text}");
                    pause = TimeSpan.FromMilliseconds(200);
                }
                else
                {
                    Interlocked.Increment(ref _serviceUnavailable);
                    if (response.Headers.RetryAfter?.Delta is not { } delay)
                    {
                        _unexpected.Enqueue($"batch {batch}: 503 without Retry-After: {text}");
                        delay = TimeSpan.FromMilliseconds(200);
                    }

                    // The server's advice, capped: the test's clock is short and the outage is the test's own.
                    pause = delay < TimeSpan.FromSeconds(1) ? delay : TimeSpan.FromSeconds(1);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref _connectionErrors);
                pause = TimeSpan.FromMilliseconds(200);
            }

            Interlocked.Increment(ref _failedAttempts);
            // A client's backoff between attempts, not a wait that proves anything.
            await Task.Delay(pause, ct);
        }
    }

    private HttpContent Content(int batch)
    {
        var records = Batches[batch].Select(r => r.Body).ToList();
        if (batch % 2 == 0)
        {
            var lines = string.Join('\n', records.Select(r => JsonSerializer.Serialize(r))) + "\n";
            var ndjson = new StringContent(lines, Encoding.UTF8);
            ndjson.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
            return ndjson;
        }

        return new StringContent(JsonSerializer.Serialize(new { records }), Encoding.UTF8, "application/json");
    }
}
