using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ComputeLedger.Host.Tests.Faults;

/// <summary>
/// A PostgreSQL cluster of one test's own, on a free loopback port, that the test stops and starts at will. Stopping the
/// run's shared server would fail every other test, and CI has no Docker engine, so this drives the server binaries the
/// way scripts/pg.sh does: PG_BIN or the newest /usr/lib/postgresql/*/bin, as the postgres user when we are root
/// (PostgreSQL refuses to run as root). The port stays the same across restarts, so clients reconnect to the same address.
/// </summary>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    // fsync and full-page writes off like test.sh's cluster: a killed server's writes are already in the kernel's page
    // cache, which only a machine crash loses. synchronous_commit stays on: off, a commit is acknowledged before its WAL
    // is written at all, and an immediate stop loses it (seen here: an acknowledged batch gone after the restart).
    private static readonly string[] Settings = ["fsync=off", "full_page_writes=off", "max_connections=200"];

    private readonly string _bin;
    private readonly DirectoryInfo _root;

    private ThrowawayPostgres(string bin, DirectoryInfo root)
    {
        _bin = bin;
        _root = root;
    }

    public int Port { get; private set; }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=50;Timeout=5";

    private string Data => Path.Combine(_root.FullName, "data");

    private string Log => Path.Combine(_root.FullName, "postgres.log");

    /// <summary>The server binaries, as scripts/pg.sh finds them; null when this machine has none.</summary>
    public static string? FindBinaries()
    {
        var preset = Environment.GetEnvironmentVariable("PG_BIN");
        if (!string.IsNullOrEmpty(preset) && File.Exists(Path.Combine(preset, "initdb")))
        {
            return preset;
        }

        return Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Version: Version.TryParse(Path.GetFileName(d), out var v) ? v : new Version(int.TryParse(Path.GetFileName(d), out var major) ? major : 0, 0), Bin: Path.Combine(d, "bin")))
                .Where(d => File.Exists(Path.Combine(d.Bin, "initdb")))
                .OrderBy(d => d.Version)
                .Select(d => d.Bin)
                .LastOrDefault()
            : null;
    }

    /// <summary>initdb, start on a free port, and create <paramref name="database"/>.</summary>
    public static async Task<ThrowawayPostgres> Start(string bin, string database, CancellationToken ct)
    {
        var root = Directory.CreateTempSubdirectory("ledger-fault-pg.");
        var cluster = new ThrowawayPostgres(bin, root);
        try
        {
            await Own(root.FullName, ct);
            await cluster.Run(ct, Path.Combine(bin, "initdb"), "-D", cluster.Data, "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--locale=C", "--no-sync");
            // Another process can take the port between the probe and the bind; then try another.
            for (var attempt = 1; ; attempt++)
            {
                cluster.Port = FreePort();
                try
                {
                    await cluster.StartAgain(ct);
                    break;
                }
                catch (InvalidOperationException) when (attempt < 5)
                {
                }
            }

            await using var admin = new NpgsqlConnection(cluster.ConnectionString("postgres"));
            await admin.OpenAsync(ct);
            await using var create = new NpgsqlCommand($"create database {database}", admin);
            await create.ExecuteNonQueryAsync(ct);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server: <c>fast</c> ends every session cleanly, <c>immediate</c> kills them and forces crash recovery on the next start.</summary>
    public Task Stop(string mode, CancellationToken ct) =>
        Run(ct, Path.Combine(_bin, "pg_ctl"), "stop", "-D", Data, "-m", mode, "-w", "-t", "60");

    /// <summary>Starts the server on its port and returns when it accepts connections.</summary>
    public Task StartAgain(CancellationToken ct)
    {
        var options = $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' " + string.Join(' ', Settings.Select(s => $"-c {s}"));
        return Run(ct, Path.Combine(_bin, "pg_ctl"), "start", "-D", Data, "-l", Log, "-w", "-t", "60", "-o", options);
    }

    public string LogTail(int lines = 30) =>
        File.Exists(Log) ? string.Join('\n', File.ReadLines(Log).TakeLast(lines)) : "(no server log)";

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(Data, "postmaster.pid")))
        {
            try
            {
                await Run(CancellationToken.None, Path.Combine(_bin, "pg_ctl"), "stop", "-D", Data, "-m", "immediate", "-w", "-t", "30");
            }
            catch (InvalidOperationException)
            {
                // Already stopped, or stopping failed: the directory goes anyway, and the server with no data dir dies.
            }
        }

        NpgsqlConnection.ClearAllPools();
        _root.Delete(recursive: true);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task Own(string path, CancellationToken ct)
    {
        if (Environment.IsPrivilegedProcess)
        {
            await Exec(ct, asPostgres: false, "chown", "postgres:postgres", path);
        }
    }

    private async Task Run(CancellationToken ct, string file, params string[] args)
    {
        try
        {
            await Exec(ct, asPostgres: Environment.IsPrivilegedProcess, file, args);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{e.Message}\nserver log:\n{LogTail()}", e);
        }
    }

    private static async Task Exec(CancellationToken ct, bool asPostgres, string file, params string[] args)
    {
        // From "/": the postgres user may not be allowed into the caller's working directory (e.g. /root).
        var start = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            WorkingDirectory = "/",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited with {process.ExitCode}: {await output}{await error}");
        }
    }
}
