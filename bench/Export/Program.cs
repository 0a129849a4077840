using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Npgsql;

// Two steps, run by bench/export.sh around a host restart:
//   load   posts N usage records to a running host (NDJSON batches, the ingest key) and waits until every async
//          projection has folded them, so a host started afterwards has nothing left to fold;
//   export streams GET /api/export/focus.csv over the whole range from a freshly started host, counting rows and bytes
//          without keeping them, and reports the duration, rows/s and the host's peak RSS; then the same export through
//          the CLI (`export focus --out`), with that process's peak RSS.
var options = Options.Parse(args);
var inv = CultureInfo.InvariantCulture;
await using var dataSource = NpgsqlDataSource.Create(options.Database);

if (options.Step == "load")
{
    using var ingest = new HttpClient { BaseAddress = new Uri(options.Url), Timeout = TimeSpan.FromMinutes(5) };
    ingest.DefaultRequestHeaders.Add("X-Api-Key", "dev-ingest");
    var batches = (int)((options.Records + options.Batch - 1) / options.Batch);
    long next = -1, accepted = 0;
    var load = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
    {
        long b;
        while ((b = Interlocked.Increment(ref next)) < batches)
        {
            var body = new StringBuilder(options.Batch * 260);
            for (var i = b * options.Batch; i < Math.Min(options.Records, (b + 1) * options.Batch); i++)
            {
                // A valid hour of Trainium2 or Inferentia2 on the demo deal during 2025, as bench/ingest.sh posts.
                var start = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddHours(i % 8000);
                var chip = i % 4 == 0 ? "Inferentia2" : "Trainium2";
                body.Append(inv, $"{{\"usageId\":\"export-{i}\",\"commitmentId\":\"amazon-anthropic\",\"provider\":\"AWS\",\"chip\":\"{chip}\",\"region\":\"us-east-1\",\"chipHours\":{1 + (i % 50) / 10m},\"start\":\"{start:yyyy-MM-dd'T'HH:mm:ss'Z'}\",\"end\":\"{start.AddHours(1):yyyy-MM-dd'T'HH:mm:ss'Z'}\"}}\n");
            }

            using var content = new StringContent(body.ToString(), Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
            using var response = await ingest.PostAsync("/api/usage", content);
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"batch {b}: {(int)response.StatusCode} {text}");
            }

            using var json = System.Text.Json.JsonDocument.Parse(text);
            Interlocked.Add(ref accepted, json.RootElement.GetProperty("accepted").GetInt64());
            Console.Error.Write($"\rload: {Interlocked.Read(ref accepted):N0} records accepted");
        }
    }));

    // Projection shards are named "<projection>:All"; the daemon's HighWater* rows are its own bookkeeping (a stuck-gap
    // mark need not move again).
    var last = await Scalar<long>(dataSource, "select coalesce(max(seq_id), 0) from ledger.mt_events");
    while (await Scalar<long>(dataSource, "select coalesce(min(last_seq_id), 0) from ledger.mt_event_progression where name like '%:All'") < last)
    {
        await Task.Delay(200);
    }

    Console.Error.WriteLine();
    Console.WriteLine($"loaded              : {accepted:N0} records in {load.Elapsed.TotalSeconds.ToString("0", inv)} s (posted and projected; not the figure measured here)");
    return accepted == options.Records ? 0 : 1;
}

var events = await Scalar<long>(dataSource, "select count(*) from ledger.mt_events where type in ('usage_recorded', 'chip_hours_consumed', 'usage_voided', 'usage_corrected')");
var pid = options.HostPid ?? throw new InvalidOperationException("--host-pid is required for the export step");
using var http = new HttpClient { BaseAddress = new Uri(options.Url), Timeout = Timeout.InfiniteTimeSpan };
http.DefaultRequestHeaders.Add("X-Api-Key", "dev-analyst");
// Warm-up: Wolverine compiles an endpoint's handler on its first call (a few seconds, ~150 MiB with Roslyn loaded).
// One empty-range export first, so the figures are the export's; the peak printed is still the process's whole peak.
(await http.GetAsync("/api/export/focus.csv?from=2000-01-01&to=2000-01-01")).EnsureSuccessStatusCode();
var before = Status(pid, "VmHWM");
long rssDuring = 0;
using var sampler = new CancellationTokenSource();
var sampling = Task.Run(async () =>
{
    while (!sampler.IsCancellationRequested)
    {
        rssDuring = Math.Max(rssDuring, Status(pid, "VmRSS"));
        await Task.Delay(100);
    }
});

var clock = Stopwatch.StartNew();
long bytes = 0, lines = 0;
TimeSpan firstByte = default;
using (var response = await http.GetAsync($"/api/export/focus.csv?from={options.From}&to={options.To}", HttpCompletionOption.ResponseHeadersRead))
{
    response.EnsureSuccessStatusCode();
    firstByte = clock.Elapsed;
    await using var body = await response.Content.ReadAsStreamAsync();
    var buffer = new byte[64 * 1024];
    int read;
    while ((read = await body.ReadAsync(buffer)) > 0)
    {
        bytes += read;
        lines += buffer.AsSpan(0, read).Count((byte)'\n');
    }
}

var seconds = clock.Elapsed.TotalSeconds;
await sampler.CancelAsync();
await sampling;
var peak = Status(pid, "VmHWM");
var rows = lines - 1;
Console.WriteLine($"usage events        : {events:N0} (each up to 10,000 records)");
Console.WriteLine($"HTTP export         : {rows:N0} rows, {bytes / 1024 / 1024:N0} MiB in {seconds.ToString("0.0", inv)} s = {(rows / seconds).ToString("N0", inv)} rows/s (headers after {firstByte.TotalMilliseconds.ToString("0", inv)} ms)");
Console.WriteLine($"host peak RSS       : {peak / 1024:N0} MiB (VmHWM of pid {pid}; {before / 1024:N0} MiB before it, after start-up and a warm-up call; sampled VmRSS max {rssDuring / 1024:N0} MiB)");

if (options.HostDll is { } dll)
{
    var output = Path.Combine(Path.GetTempPath(), $"bench-focus-{Environment.ProcessId}.csv");
    var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in new[] { dll, "export", "focus", "--from", options.From, "--to", options.To, "--out", output })
    {
        start.ArgumentList.Add(a);
    }

    start.Environment["LEDGER_POSTGRES"] = options.Database;
    start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
    start.Environment["Ledger__SeedDemoData"] = "false";
    var cli = Stopwatch.StartNew();
    using var process = Process.Start(start)!;
    long cliPeak = 0;
    var stderr = process.StandardError.ReadToEndAsync();
    while (!process.HasExited)
    {
        cliPeak = Math.Max(cliPeak, Status(process.Id, "VmHWM"));
        await Task.Delay(50);
    }

    await process.WaitForExitAsync();
    var progress = (await stderr).Split('\r', '\n').LastOrDefault(l => l.StartsWith("export:", StringComparison.Ordinal)) ?? "(no progress line)";
    var cliRows = File.ReadLines(output).LongCount() - 1;
    var size = new FileInfo(output).Length;
    File.Delete(output);
    Console.WriteLine($"CLI export          : {cliRows:N0} rows, {size / 1024 / 1024:N0} MiB in {cli.Elapsed.TotalSeconds.ToString("0.0", inv)} s including start-up, exit {process.ExitCode}; peak RSS {cliPeak / 1024:N0} MiB (VmHWM, sampled every 50 ms)");
    Console.WriteLine($"CLI's last progress : {progress}");
}

return 0;

static async Task<T> Scalar<T>(NpgsqlDataSource dataSource, string sql)
{
    await using var command = dataSource.CreateCommand(sql);
    return (T)(await command.ExecuteScalarAsync())!;
}

// A kB figure of /proc/<pid>/status (VmRSS now, VmHWM the peak since the process started); 0 once it is gone.
static long Status(int pid, string field)
{
    try
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
    catch (IOException)
    {
        return 0;
    }
}

internal sealed record Options(string Step, long Records, int Batch, string Url, string Database, int? HostPid, string? HostDll, string From, string To)
{
    public static Options Parse(string[] args)
    {
        string? Value(string name)
        {
            var at = Array.LastIndexOf(args, name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
        }

        return new Options(
            args.FirstOrDefault() ?? "export",
            long.Parse(Value("--records") ?? "1000000", CultureInfo.InvariantCulture),
            int.Parse(Value("--batch") ?? "10000", CultureInfo.InvariantCulture),
            Value("--url") ?? "http://127.0.0.1:5080",
            Value("--database") ?? throw new InvalidOperationException("--database (an Npgsql connection string) is required"),
            Value("--host-pid") is { } pid ? int.Parse(pid, CultureInfo.InvariantCulture) : null,
            Value("--host-dll"),
            Value("--from") ?? "2000-01-01",
            Value("--to") ?? "2100-12-31");
    }
}
