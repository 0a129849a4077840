using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Alba;
using Marten.Events;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

// For each history size: a fresh database, the ledger hosted in-process with a simulated clock, the demo data, then N
// usage records ingested over HTTP in batches of 1,000. Then p50/p95 of eligibility and chip-spend queries with asOf and
// knownAt both in the past (whole days, then instants), the first page of a chip-month's lineage, and the restatements
// of one known day.
//
// Shape (default, "steady"): the history grows the way a ledger does, by adding days at a steady daily rate on both
// axes: 10 batches (10,000 records) per known day and 125 records per valid hour (3,000 per valid day), so 1M records
// span 100 known days and 8,000 valid hours, and 10k records the first known day and 80 valid hours. A restatement or an
// instant reads one day's entries by design; with a steady rate that day holds the same records at every size, so the
// ratio measures what the history's length costs. "--spread" keeps the earlier shape: known times spread over 100 days
// and valid times over 8,000 hours at every size, so one day holds 100x more records at 1M than at 10k.
internal static class QueryBenchmark
{
    public static async Task<int> Main(string[] args)
    {
        var inv = CultureInfo.InvariantCulture;
        var server = Environment.GetEnvironmentVariable("LEDGER_BENCH_SERVER")
                     ?? throw new InvalidOperationException("LEDGER_BENCH_SERVER (an Npgsql connection string to a server) is required; bench/queries.sh sets it.");
        var spread = args.Contains("--spread");
        var given = args.Where(a => a != "--spread").Select(a => long.Parse(a, inv)).ToArray();
        long[] sizes = given.Length > 0 ? given : [10_000, 1_000_000];
        const int Samples = 200;
        const string Eligibility = "/api/commitments/amazon-anthropic/eligibility?asOf=2025-06-30&knownAt=2026-02-15";
        const string Spend = "/api/spend/chips?from=2025-01&to=2025-12&asOf=2025-06-30&knownAt=2026-02-15";
        // Steady: a month, a known day and a valid day that hold records at every size (known day 1, valid days 1-3).
        var explain = spread ? "/api/explain/spend/AWS/Trainium2/2025-03?limit=100" : "/api/explain/spend/AWS/Trainium2/2025-01?limit=100";
        // Spread: one known day that holds a batch at every size (batches are 100 days / N apart, the first 10k ones 10 days apart).
        var restatements = spread ? "/api/restatements?knownFrom=2026-02-09&knownTo=2026-02-10" : "/api/restatements?knownFrom=2026-01-01&knownTo=2026-01-02";
        var instants = spread
            ? "/api/spend/chips?from=2025-01&to=2025-12&asOf=2025-06-30T12:00:00Z&knownAt=2026-02-15T12:00:00Z"
            : "/api/spend/chips?from=2025-01&to=2025-12&asOf=2025-01-02T12:00:00Z&knownAt=2026-01-01T12:00:00Z";
        Console.WriteLine($"shape: {(spread ? "known times over 100 days and valid times over 8,000 hours at every size (--spread)" : "steady: 10,000 records per known day, 125 per valid hour")}");

        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        var results = new List<string>();
        foreach (var size in sizes)
        {
            var database = $"ledger_qbench_{size}_{Guid.NewGuid():N}"[..40];
            await using (var admin = new NpgsqlConnection(server))
            {
                await admin.OpenAsync();
                await using var create = new NpgsqlCommand($"create database {database}", admin);
                await create.ExecuteNonQueryAsync();
            }

            var time = new SimulatedTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
            await using var host = await AlbaHost.For<global::Program>(builder =>
            {
                builder.UseEnvironment("Development");
            builder.UseContentRoot(AppContext.BaseDirectory);
                builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(time));
                builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["LEDGER_POSTGRES"] = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString,
                    ["Ledger:SeedDemoData"] = "true",
                    ["Logging:LogLevel:Default"] = "Warning",
                }));
            });

            var client = host.Server.CreateClient();
            client.DefaultRequestHeaders.Add("X-Api-Key", "dev-ingest");
            var load = Stopwatch.StartNew();
            var batches = (int)((size + 999) / 1000);
            var step = spread ? TimeSpan.FromDays(100) / batches : TimeSpan.FromDays(1) / 10;
            for (var b = 0; b < batches; b++)
            {
                time.Now = time.Now.Add(step);
                var body = new StringBuilder();
                for (var i = b * 1000L; i < Math.Min(size, (b + 1) * 1000L); i++)
                {
                    var start = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddHours(spread ? i % 8000 : i / 125);
                    var chip = i % 4 == 0 ? "Inferentia2" : "Trainium2";
                    body.Append(inv, $"{{\"usageId\":\"q-{i}\",\"commitmentId\":\"amazon-anthropic\",\"provider\":\"AWS\",\"chip\":\"{chip}\",\"region\":\"us-east-1\",\"chipHours\":{1 + (i % 50) / 10m},\"start\":\"{start:yyyy-MM-dd'T'HH:mm:ss'Z'}\",\"end\":\"{start.AddHours(1):yyyy-MM-dd'T'HH:mm:ss'Z'}\"}}\n");
                }

                using var content = new StringContent(body.ToString(), Encoding.UTF8);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
                using var response = await client.PostAsync("/api/usage", content);
                response.EnsureSuccessStatusCode();
                if (b % 100 == 0)
                {
                    Console.Error.Write($"\r{size:N0}: {b * 1000L:N0} records loaded");
                }
            }

            await host.WaitForNonStaleProjectionDataAsync(TimeSpan.FromMinutes(30));
            Console.Error.WriteLine($"\r{size:N0}: loaded and projected in {load.Elapsed.TotalSeconds.ToString("0", inv)} s          ");

            // Known days are closed in the background a few minutes after they end (hourly sums for instant reads); the
            // simulated clock ran past them during loading, so close them now, as the ledger would have, before timing.
            var closing = Stopwatch.StartNew();
            var closed = await ComputeLedger.Projections.Usage.KnownDayHours.CloseDue(host.Services.GetRequiredService<Marten.IDocumentStore>(),
                NodaTime.Instant.FromDateTimeOffset(time.Now), CancellationToken.None);
            Console.Error.WriteLine($"{size:N0}: closed {closed} known days in {closing.Elapsed.TotalSeconds.ToString("0.0", inv)} s");

            // Loading a history in seconds leaves the maintenance it triggers (autovacuum of a million fresh claim and
            // lineage rows, the checkpoint of what they dirtied) to run during the timings, at 1M far more than at 10k.
            // A ledger does that work as its history grows; the benchmark does it before timing, at every size alike.
            await using (var settle = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString))
            {
                await settle.OpenAsync();
                await using var vacuum = new NpgsqlCommand("vacuum (analyze); checkpoint", settle) { CommandTimeout = 0 };
                await vacuum.ExecuteNonQueryAsync();
            }

            var reader = host.Server.CreateClient();
            reader.DefaultRequestHeaders.Add("X-Api-Key", "dev-analyst");
            foreach (var (name, url) in new[]
                     {
                         ("eligibility", Eligibility), ("chip spend", Spend), ("explain page", explain), ("restatements", restatements),
                         ("instants", instants),
                     })
            {
                for (var w = 0; w < 10; w++)
                {
                    (await reader.GetAsync(url)).EnsureSuccessStatusCode();
                }

                var timings = new double[Samples];
                for (var s = 0; s < Samples; s++)
                {
                    var t = Stopwatch.GetTimestamp();
                    using var response = await reader.GetAsync(url);
                    response.EnsureSuccessStatusCode();
                    await response.Content.ReadAsByteArrayAsync();
                    timings[s] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                }

                Array.Sort(timings);
                var line = $"{size,10:N0} events  {name,-13} p50 {timings[Samples / 2].ToString("0.0", inv),7} ms   p95 {timings[(int)(Samples * 0.95) - 1].ToString("0.0", inv),7} ms";
                results.Add(line);
                Console.WriteLine(line);
            }
        }

        Console.WriteLine("queries: " + string.Join(", ", Eligibility, Spend, explain, restatements, instants));
        return 0;
    }
}

/// <summary>The host's clock: moved forward by the benchmark between batches, so known times spread over months.</summary>
internal sealed class SimulatedTime(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}
