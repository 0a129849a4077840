// Over 200 lines: starting, watching and killing a real host process (ports, readiness, output capture, teardown) is
// one lifecycle; split, each part would need the others' state.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace ComputeLedger.Host.Tests.Faults;

/// <summary>
/// The ledger host as an OS process of its own, started the way scripts/host.sh starts it, so a test can kill it with
/// SIGKILL: an in-process host can only be disposed, which runs every shutdown hook a crash never runs.
/// </summary>
public sealed class LedgerProcess : IAsyncDisposable
{
    private const int LogLines = 300;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private bool _disposed;

    private LedgerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>A client of this host's address signed in with <paramref name="apiKey"/>.</summary>
    public HttpClient Client(string apiKey)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <summary>A free loopback port for a host's address.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Starts the Release host on 127.0.0.1:<paramref name="port"/> against <paramref name="connectionString"/> and waits until it is ready.</summary>
    /// <param name="settings">Environment entries that override the defaults below (e.g. <c>Ledger__SeedDemoData=true</c>).</param>
    /// <param name="readyWithin">60 s unless given: seeding the demo year happens before the host answers, which takes longer.</param>
    public static async Task<LedgerProcess> Start(string connectionString, int port, CancellationToken ct, IReadOnlyDictionary<string, string>? settings = null,
        TimeSpan? readyWithin = null)
    {
        var within = readyWithin ?? TimeSpan.FromSeconds(60);
        var directory = HostDirectory();
        var address = new Uri($"http://127.0.0.1:{port}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(directory, "ComputeLedger.Host.dll"));
        // What scripts/host.sh sets, minus the demo data: Development for the dev keys, loopback only.
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_CONTENTROOT"] = directory;
        start.Environment["ASPNETCORE_URLS"] = address.ToString();
        start.Environment["LEDGER_POSTGRES"] = connectionString;
        start.Environment["Ledger__SeedDemoData"] = "false";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        // Start and stop stay visible: a host that stops by itself must be told apart from one that hangs.
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        process.StandardInput.Close();
#pragma warning disable CA2000 // Returned to the caller, who owns it; the timeout path disposes it before throwing.
        var host = new LedgerProcess(process, address);
#pragma warning restore CA2000
        process.OutputDataReceived += (_, e) => host.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => host.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the host exited with {process.ExitCode} while starting:\n{host.LogTail()}");
            }

            try
            {
                using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative), ct);
                if (ready.IsSuccessStatusCode)
                {
                    return host;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }

            if (deadline.Elapsed > within)
            {
                await host.DisposeAsync();
                throw new TimeoutException($"the host was not ready within {within.TotalSeconds} s:\n{host.LogTail()}");
            }

            await Task.Delay(100, ct);
        }
    }

    /// <summary>SIGKILL: no shutdown hook runs, in-flight requests and transactions are cut where they are.</summary>
    public async Task Kill()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync(CancellationToken.None);
    }

    /// <summary>The host's last log lines, and how it ended if it did.</summary>
    public string LogTail() => (!_disposed && _process.HasExited ? $"(exited with {_process.ExitCode})\n" : "") + string.Join('\n', _log);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            await Kill();
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        while (_log.Count > LogLines && _log.TryDequeue(out _))
        {
        }
    }

    /// <summary>
    /// The host's own build output (what run.sh serves; test.sh builds it with the tests), after checking it is the very
    /// build this test assembly references: a stale or differently configured build would test other code.
    /// </summary>
    internal static string HostDirectory()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (framework, configuration) = (testOutput.Name, testOutput.Parent!.Name);
        var root = testOutput;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ComputeLedger.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException($"no ComputeLedger.sln above {testOutput.FullName}");
        }

        var directory = Path.Combine(root.FullName, "src", "Host", "bin", configuration, framework);
        var dll = Path.Combine(directory, "ComputeLedger.Host.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"no host build at {dll}: build src/Host in {configuration} (test.sh does)");
        }

        using (var pe = new PEReader(File.OpenRead(dll)))
        {
            var metadata = pe.GetMetadataReader();
            var built = metadata.GetGuid(metadata.GetModuleDefinition().Mvid);
            var referenced = typeof(Program).Assembly.ManifestModule.ModuleVersionId;
            if (built != referenced)
            {
                throw new InvalidOperationException($"{dll} is not the build the tests reference ({built} ≠ {referenced}): rebuild the solution in {configuration}");
            }
        }

        return directory;
    }
}
