// Over 200 lines: the benchmark is one script (warm-up, load, catch-up wait, COPY reference, CPU accounting, report)
// that anyone reruns; its order is its meaning.
using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

// Posts N usage records to a running ledger, then loads the same N rows with binary COPY into a plain table with a
// primary key on usage_id in the same database: the physical floor any idempotent store pays. Prints both and the ratio.
var options = Options.Parse(args);
var inv = CultureInfo.InvariantCulture;
Console.WriteLine($"ingest benchmark: {options.Records:N0} records, batch {options.Batch}, concurrency {options.Concurrency}, host {options.Url}");

using var http = new HttpClient { BaseAddress = new Uri(options.Url), Timeout = TimeSpan.FromMinutes(5) };
http.DefaultRequestHeaders.Add("X-Api-Key", options.ApiKey);
var runId = DateTime.UtcNow.ToString("yyyyMMddHHmmss", inv);
var hostPid = options.HostPid ?? FindHostPid(new Uri(options.Url).Port);

await using var dataSource = NpgsqlDataSource.Create(options.Database);
// A fresh ledger closes the known days of its demo history in its first seconds (hourly sums for instant reads, once per
// day): startup work, like the seeding, so the benchmark waits until the count of closed days has stood still for 2 s.
for (var (last, still) = (-1L, 0); still < 4;)
{
    var closed = await Scalar<long>(dataSource, "select count(*) from ledger.usage_day_hours_closed");
    (last, still) = (closed, closed == last ? still + 1 : 0);
    await Task.Delay(500);
}

var startSeq = await Scalar<long>(dataSource, "select coalesce(max(seq_id), 0) from ledger.mt_events");
// Only the benchmarked cluster's processes count as PostgreSQL: a shared machine runs other clusters, whose CPU (or whose
// exit, which takes their time out of the sum) would otherwise land in the figures.
var postmaster = Postmaster(await Scalar<string>(dataSource, "select setting from pg_settings where name = 'data_directory'"));
Cpu.Postmaster = postmaster;

// Every record is a valid hour of Trainium2 or Inferentia2 for the demo deal amazon-anthropic during 2025. The load
// client shares the two cores with the host and the database, so it writes each line as UTF-8 straight into the batch's
// buffer (no string per line, no re-encoding of the body), as a dedicated load generator such as wrk builds nothing.
void Line(ArrayBufferWriter<byte> body, long i, string prefix = "bench")
{
    var start = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddHours(i % 8000);
    var inferentia = i % 4 == 0;
    var span = body.GetSpan(1024);
    if (!Utf8.TryWrite(span, inv, $"{{\"usageId\":\"{prefix}-{runId}-{i}\",\"commitmentId\":\"amazon-anthropic\",\"provider\":\"AWS\",\"chip\":\"{(inferentia ? "Inferentia2" : "Trainium2")}\",\"region\":\"us-east-1\",\"chipHours\":{1 + (i % 50) / 10m},\"start\":\"{start:yyyy-MM-dd'T'HH:mm:ss'Z'}\",\"end\":\"{start.AddHours(1):yyyy-MM-dd'T'HH:mm:ss'Z'}\"", out var written))
    {
        throw new InvalidOperationException("a benchmark line outgrew its 1 KiB");
    }

    body.Advance(written);
    if (inferentia)
    {
        span = body.GetSpan(64);
        Utf8.TryWrite(span, inv, $",\"tokens\":{1_000_000 + (i % 1000)}", out written);
        body.Advance(written);
    }

    "}\n"u8.CopyTo(body.GetSpan(2));
    body.Advance(2);
}

HttpContent Ndjson(ArrayBufferWriter<byte> body)
{
    var content = new ReadOnlyMemoryContent(body.WrittenMemory);
    content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
    return content;
}

// A fresh host spends its first seconds compiling and re-compiling hot code (tiered JIT): a warm-up of the same kind
// of batches, neither timed nor counted, so the figures are those of a host that has been serving for a while.
if (options.Warmup > 0)
{
    for (long from = 0; from < options.Warmup; from += options.Batch)
    {
        var body = new ArrayBufferWriter<byte>();
        for (var k = from; k < Math.Min(from + options.Batch, options.Warmup); k++)
        {
            Line(body, k, "warmup");
        }

        using var content = Ndjson(body);
        using var response = await http.PostAsync("/api/usage", content);
        response.EnsureSuccessStatusCode();
    }

    // The daemon folds the warm-up too before the clock starts, so none of its work is counted below.
    startSeq = await Scalar<long>(dataSource, "select coalesce(max(seq_id), 0) from ledger.mt_events");
    while (await Scalar<long>(dataSource, "select coalesce(min(last_seq_id), 0) from ledger.mt_event_progression where name in ('ChipSpend:All','ProviderRevenue:All','Drawdown:All','UsageBucketRows:All')") < startSeq)
    {
        await Task.Delay(50);
    }

    Console.WriteLine($"warm-up             : {options.Warmup:N0} records posted and folded first, not counted");
}

// What the views count before the timed records: after the catch-up each must hold exactly the records accepted since.
const string BucketRecordsSql = "select coalesce(sum(records), 0)::bigint from ledger.usage_buckets where grain = 'mm'";
const string SpendRecordsSql = "select coalesce(sum((data ->> 'records')::bigint), 0)::bigint from ledger.mt_doc_chipspend";
var (bucketsBefore, spendBefore) = (await Scalar<long>(dataSource, BucketRecordsSql), await Scalar<long>(dataSource, SpendRecordsSql));

var batches = (int)((options.Records + options.Batch - 1) / options.Batch);
var latencies = new double[batches];
long accepted = 0, nextBatch = -1, peakRss = 0;
using var sampler = new CancellationTokenSource();
var sampling = Task.Run(async () =>
{
    while (!sampler.IsCancelled())
    {
        peakRss = Math.Max(peakRss, Rss(hostPid));
        await Task.Delay(100);
    }
});

var cpuBefore = Cpu.Sample(hostPid);
var clock = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
{
    long b;
    var body = new ArrayBufferWriter<byte>(options.Batch * 280);
    while ((b = Interlocked.Increment(ref nextBatch)) < batches)
    {
        var from = b * options.Batch;
        var to = Math.Min(options.Records, from + options.Batch);
        body.ResetWrittenCount();
        for (var i = from; i < to; i++)
        {
            Line(body, i);
        }

        using var content = Ndjson(body);
        var t = Stopwatch.GetTimestamp();
        using var response = await http.PostAsync("/api/usage", content);
        latencies[b] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"batch {b}: {(int)response.StatusCode} {text}");
        }

        using var json = JsonDocument.Parse(text);
        Interlocked.Add(ref accepted, json.RootElement.GetProperty("accepted").GetInt64());
    }
}));
var ingestSeconds = clock.Elapsed.TotalSeconds;
var cpuIngest = Cpu.Sample(hostPid) - cpuBefore;
Array.Sort(latencies);
double Percentile(double p) => latencies[Math.Clamp((int)Math.Ceiling(p * latencies.Length) - 1, 0, latencies.Length - 1)];
var ingestRate = accepted / ingestSeconds;
Console.WriteLine($"accepted            : {accepted:N0} in {ingestSeconds.ToString("0.0", inv)} s = {ingestRate.ToString("N0", inv)} records/s");
Console.WriteLine($"batch latency       : p50 {Percentile(0.50).ToString("0", inv)} ms, p99 {Percentile(0.99).ToString("0", inv)} ms");

// Projection catch-up: until every async projection has folded the last event this run wrote.
var lastSeq = await Scalar<long>(dataSource, "select coalesce(max(seq_id), 0) from ledger.mt_events");
var catchUp = Stopwatch.StartNew();

async Task<double> FoldedBy(string what, params string[] shards)
{
    var names = string.Join(",", shards.Select(s => $"'{s}:All'"));
    while (await Scalar<long>(dataSource, $"select coalesce(min(last_seq_id), 0) from ledger.mt_event_progression where name in ({names})") < lastSeq)
    {
        if (catchUp.Elapsed > TimeSpan.FromMinutes(30))
        {
            throw new TimeoutException($"{what} did not catch up within 30 minutes");
        }

        await Task.Delay(50);
    }

    return catchUp.Elapsed.TotalSeconds;
}

// The live views and the time-travel buckets are members of one composite projection (the buckets keep a progress
// row of their own, which time-travel reads use); both figures are reported.
var catchUpSeconds = await FoldedBy("the live projections", "ChipSpend", "ProviderRevenue", "Drawdown");
var bucketSeconds = await FoldedBy("the bucket projection", "UsageBucketRows");
await sampler.CancelAsync();
await sampling;

// Nothing acknowledged lost or counted twice: the buckets and the live chip spend each gained exactly the accepted records.
var bucketRecords = await Scalar<long>(dataSource, BucketRecordsSql) - bucketsBefore;
var spendRecords = await Scalar<long>(dataSource, SpendRecordsSql) - spendBefore;

// The floor: the same rows by binary COPY into a plain table with PRIMARY KEY(usage_id).
await Execute(dataSource, """
    drop table if exists public.bench_usage_copy;
    create table public.bench_usage_copy (usage_id text primary key, commitment_id text not null, provider text not null,
        chip text not null, region text, chip_hours numeric not null, window_start timestamptz not null,
        window_end timestamptz not null, tokens bigint)
    """);
var cpuBeforeCopy = Cpu.Sample(hostPid);
var copyClock = Stopwatch.StartNew();
await using (var connection = await dataSource.OpenConnectionAsync())
await using (var writer = await connection.BeginBinaryImportAsync(
                 "copy public.bench_usage_copy (usage_id, commitment_id, provider, chip, region, chip_hours, window_start, window_end, tokens) from stdin (format binary)"))
{
    for (long i = 0; i < options.Records; i++)
    {
        var start = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddHours(i % 8000);
        var inferentia = i % 4 == 0;
        await writer.StartRowAsync();
        await writer.WriteAsync($"copy-{runId}-{i}", NpgsqlDbType.Text);
        await writer.WriteAsync("amazon-anthropic", NpgsqlDbType.Text);
        await writer.WriteAsync("AWS", NpgsqlDbType.Text);
        await writer.WriteAsync(inferentia ? "Inferentia2" : "Trainium2", NpgsqlDbType.Text);
        await writer.WriteAsync("us-east-1", NpgsqlDbType.Text);
        await writer.WriteAsync(1 + (i % 50) / 10m, NpgsqlDbType.Numeric);
        await writer.WriteAsync(start, NpgsqlDbType.TimestampTz);
        await writer.WriteAsync(start.AddHours(1), NpgsqlDbType.TimestampTz);
        if (inferentia)
        {
            await writer.WriteAsync(1_000_000L + (i % 1000), NpgsqlDbType.Bigint);
        }
        else
        {
            await writer.WriteNullAsync();
        }
    }

    await writer.CompleteAsync();
}

var copySeconds = copyClock.Elapsed.TotalSeconds;
var cpuCopy = Cpu.Sample(hostPid) - cpuBeforeCopy;
await Execute(dataSource, "drop table public.bench_usage_copy");

var copyRate = options.Records / copySeconds;
Console.WriteLine($"events written      : {lastSeq - startSeq:N0} (sequence {startSeq:N0} -> {lastSeq:N0})");
Console.WriteLine($"host peak RSS       : {(hostPid is null ? "unknown (pass --host-pid)" : $"{peakRss / 1024 / 1024} MiB (pid {hostPid}, sampled every 100 ms)")}");
Console.WriteLine($"projection catch-up : {catchUpSeconds.ToString("0.00", inv)} s after the last batch was acknowledged (spend, revenue, drawdown)");
Console.WriteLine($"bucket catch-up     : {bucketSeconds.ToString("0.00", inv)} s after the last batch (time-travel buckets; reads fold their tail meanwhile)");
Console.WriteLine($"records folded      : {bucketRecords:N0} in the time-travel buckets, {spendRecords:N0} in the live chip spend, of {accepted:N0} accepted");
Console.WriteLine($"binary COPY + PK    : {options.Records:N0} rows in {copySeconds.ToString("0.0", inv)} s = {copyRate.ToString("N0", inv)} rows/s");
Console.WriteLine($"ingest / COPY ratio : {(ingestRate / copyRate).ToString("0.00", inv)}");
// Where the CPU went (the profile behind the ratio): CPU-µs per record while posting, and per row while copying.
string PerRecord(double seconds, long n) => (seconds * 1e6 / n).ToString("0.0", inv);
Console.WriteLine($"CPU while ingesting : host {PerRecord(cpuIngest.Host, accepted)} µs/record, PostgreSQL {PerRecord(cpuIngest.Postgres, accepted)} µs/record, " +
                  $"load client {PerRecord(cpuIngest.Client, accepted)} µs/record (all cores; host includes its async daemon)");
Console.WriteLine(postmaster is null
    ? "warning: could not read the cluster's postmaster.pid; PostgreSQL CPU sums every postgres process on this machine"
    : $"PostgreSQL processes: the cluster of postmaster {postmaster} and its children");
Console.WriteLine($"CPU while copying   : PostgreSQL {PerRecord(cpuCopy.Postgres, options.Records)} µs/row, client {PerRecord(cpuCopy.Client, options.Records)} µs/row");
if (bucketRecords != accepted || spendRecords != accepted)
{
    Console.Error.WriteLine($"error: the views folded {bucketRecords:N0} (buckets) and {spendRecords:N0} (chip spend) records, not the {accepted:N0} accepted");
    return 2;
}

if (accepted != options.Records)
{
    Console.Error.WriteLine($"warning: {options.Records - accepted:N0} records were not accepted");
    return 1;
}

return 0;

static async Task<T> Scalar<T>(NpgsqlDataSource dataSource, string sql)
{
    await using var command = dataSource.CreateCommand(sql);
    return (T)(await command.ExecuteScalarAsync())!;
}

static async Task Execute(NpgsqlDataSource dataSource, string sql)
{
    await using var command = dataSource.CreateCommand(sql);
    await command.ExecuteNonQueryAsync();
}

// The dotnet process running the host on the benchmarked port (not a wrapper such as timeout or run.sh whose
// arguments also name the dll, nor another host on another port).
static int? FindHostPid(int port) => Process.GetProcesses()
    .Where(p =>
    {
        try
        {
            var argv = File.ReadAllText($"/proc/{p.Id}/cmdline").Split('\0');
            var environment = File.ReadAllText($"/proc/{p.Id}/environ");
            return Path.GetFileName(argv[0]) == "dotnet"
                   && argv.Any(a => a.EndsWith("ComputeLedger.Host.dll", StringComparison.Ordinal))
                   && (environment.Contains($":{port}", StringComparison.Ordinal) || argv.Any(a => a.Contains($":{port}", StringComparison.Ordinal)));
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    })
    .Select(p => (int?)p.Id).FirstOrDefault();

static int? Postmaster(string dataDirectory)
{
    try
    {
        return int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
    {
        return null;
    }
}

static long Rss(int? pid)
{
    if (pid is null)
    {
        return 0;
    }

    try
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
    catch (IOException)
    {
        return 0;
    }
}

internal sealed record Options(long Records, int Batch, int Concurrency, string Url, string ApiKey, string Database, int? HostPid, long Warmup)
{
    public static Options Parse(string[] args)
    {
        // The last occurrence wins, so a wrapper's defaults can be overridden by arguments appended after them.
        string? Value(string name)
        {
            var at = Array.LastIndexOf(args, name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
        }

        return new Options(
            long.Parse(Value("--records") ?? "1000000", CultureInfo.InvariantCulture),
            int.Parse(Value("--batch") ?? "1000", CultureInfo.InvariantCulture),
            int.Parse(Value("--concurrency") ?? "4", CultureInfo.InvariantCulture),
            Value("--url") ?? "http://127.0.0.1:5080",
            Value("--api-key") ?? "dev-ingest",
            Value("--database") ?? Environment.GetEnvironmentVariable("LEDGER_POSTGRES") ?? "Host=127.0.0.1;Port=55432;Username=postgres;Database=ledger",
            Value("--host-pid") is { } pid ? int.Parse(pid, CultureInfo.InvariantCulture) : null,
            long.Parse(Value("--warmup") ?? "20000", CultureInfo.InvariantCulture));
    }
}

/// <summary>CPU seconds (user + system) used so far by the host, by every PostgreSQL process, and by this client, from /proc.</summary>
internal readonly record struct Cpu(double Host, double Postgres, double Client)
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>The benchmarked cluster's postmaster; null counts every process named postgres.</summary>
    public static int? Postmaster { get; set; }

    public static Cpu operator -(Cpu a, Cpu b) => new(a.Host - b.Host, a.Postgres - b.Postgres, a.Client - b.Client);

    public static Cpu Sample(int? hostPid)
    {
        double host = 0, postgres = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText($"{dir}/stat");
                var name = stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..stat.LastIndexOf(')')];
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // fields[0] is the state (field 3): utime, stime, cutime, cstime are fields 14-17.
                double Field(int n) => double.Parse(fields[n - 3], CultureInfo.InvariantCulture) / TicksPerSecond;
                if (pid == hostPid)
                {
                    host = Field(14) + Field(15);
                }
                else if (name == "postgres" && Postmaster is null)
                {
                    // Live backends, plus (via the postmaster's cutime/cstime) those that have exited.
                    postgres += Field(14) + Field(15) + Field(16) + Field(17);
                }
                else if (pid == Postmaster)
                {
                    // The postmaster, and (cutime/cstime) the backends it has reaped.
                    postgres += Field(14) + Field(15) + Field(16) + Field(17);
                }
                else if (Postmaster is not null && int.Parse(fields[1], CultureInfo.InvariantCulture) == Postmaster)
                {
                    // A live backend or worker of the cluster (field 4 is the parent).
                    postgres += Field(14) + Field(15);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // The process went away while being read.
            }
        }

        return new Cpu(host, postgres, Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds);
    }
}

internal static class CancellationExtensions
{
    public static bool IsCancelled(this CancellationTokenSource source) => source.IsCancellationRequested;
}
