using System.Runtime.ExceptionServices;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ComputeLedger.Host.Cli;

/// <summary>
/// The analysts' commands, <c>replay</c> and <c>export focus</c>, on Spectre.Console.Cli: parsing, <c>--help</c> and
/// progress come from the library. They call the query functions the HTTP endpoints call, against the configured
/// database, without starting the web server. The result alone goes to stdout; progress, logs and errors to stderr.
/// </summary>
public static class AnalystCli
{
    public static bool Handles(string[] args) => args is ["replay", ..] or ["export", ..];

    public static Task<int> Run(IServiceProvider services, string[] args)
    {
        var app = new CommandApp(new HostServices(services));
        app.Configure(config =>
        {
            config.SetApplicationName("ledger");
            config.ConfigureConsole(Consoles.Out);
            config.AddCommand<ReplayCommand>("replay")
                .WithDescription("Prints a view (eligibility, spend, revenue, drawdown) on both time axes, as the API answers it.")
                .WithExample("replay", "--view", "spend", "--from", "2025-01", "--to", "2025-12", "--as-of", "2025-12-31", "--format", "csv")
                .WithExample("replay", "--view", "drawdown", "--commitment", "amazon-anthropic", "--as-of", "2025-06-30");
            config.AddBranch("export", export =>
            {
                export.SetDescription("Exports usage to a file.");
                export.AddCommand<ExportFocusCommand>("focus")
                    .WithDescription("Writes usage charges as FinOps FOCUS CSV, rows going to the file as the events are read.")
                    .WithExample("export", "focus", "--from", "2025-07-01", "--to", "2025-07-31", "--known-at", "2025-08-31", "--out", "july.csv");
            });
            config.SetExceptionHandler((e, _) => Failed(e));
        });
        return app.RunAsync(args);
    }

    /// <summary>Bad usage is 2 with a pointer to the help; a database or configuration fault is 1; anything else is a bug and throws.</summary>
    private static int Failed(Exception e)
    {
        switch (e)
        {
            case CommandAppException:
                Consoles.Error.MarkupLineInterpolated($"[red]error:[/] {e.Message} (see --help)");
                return 2;
            case InvalidOperationException or Npgsql.NpgsqlException:
                Consoles.Error.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 1;
            default:
                ExceptionDispatchInfo.Capture(e).Throw();
                return 1;
        }
    }

    /// <summary>Refused input: each message on stderr, exit code 2 as for any usage error.</summary>
    public static int Refused(IEnumerable<(string Field, string Message)> errors)
    {
        foreach (var (_, message) in errors)
        {
            Consoles.Error.MarkupLineInterpolated($"[red]error:[/] {message}");
        }

        Consoles.Error.MarkupLine("(see --help)");
        return 2;
    }
}

/// <summary>The two consoles: stdout for the result, stderr for everything a person watches.</summary>
public static class Consoles
{
    public static IAnsiConsole Out { get; } = Create(Console.Out, Console.IsOutputRedirected);

    public static IAnsiConsole Error { get; } = Create(Console.Error, Console.IsErrorRedirected);

    private static IAnsiConsole Create(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        if (redirected)
        {
            // A file or a pipe has no width: a table must not be squeezed or wrapped to a terminal's 80 columns.
            console.Profile.Width = 1_000;
        }

        return console;
    }
}

/// <summary>Spectre's commands resolved from the host's services, so a command takes the document store and the clock.</summary>
internal sealed class HostServices(IServiceProvider services) : ITypeRegistrar, ITypeResolver
{
    private readonly Dictionary<Type, Func<object>> _registered = [];

    public void Register(Type service, Type implementation) => _registered[service] = () => ActivatorUtilities.CreateInstance(services, implementation);

    public void RegisterInstance(Type service, object implementation) => _registered[service] = () => implementation;

    public void RegisterLazy(Type service, Func<object> factory) => _registered[service] = factory;

    public ITypeResolver Build() => this;

    public object? Resolve(Type? type) => type is null ? null
        : _registered.TryGetValue(type, out var create) ? create() : services.GetService(type);
}
