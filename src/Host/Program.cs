using ComputeLedger.Host.Api;
using ComputeLedger.Host.Catalog;
using ComputeLedger.Host.Cli;
using ComputeLedger.Host.Commitments;
using ComputeLedger.Host.Dashboard;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Infrastructure.Telemetry;
using ComputeLedger.Host.Integration;
using ComputeLedger.Host.Operations;
using ComputeLedger.Host.Webhooks;
using ComputeLedger.Host.Seed;
using ComputeLedger.Host.Usage;
using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using Marten;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Weasel.Core;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;

var builder = WebApplication.CreateBuilder(args);
if (AnalystCli.Handles(args))
{
    // An analyst command's stdout is its result alone (CSV, JSON, a table): every log line goes to stderr.
    builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    // JasperFx reports its extension discovery through Spectre's shared console: that goes to stderr too.
    Spectre.Console.AnsiConsole.Console = ComputeLedger.Host.Cli.Consoles.Error;
}

builder.Host.ApplyJasperFxExtensions();

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(services => new LedgerTime(services.GetRequiredService<TimeProvider>()));
builder.Services.AddSingleton<IClock>(services => new TimeProviderClock(services.GetRequiredService<LedgerTime>()));
builder.Services.AddMarten(services =>
    {
        var options = new StoreOptions();
        options.Connection(Database.ConnectionString(services.GetRequiredService<IConfiguration>()));
        options.DatabaseSchemaName = "ledger";
        // Stored batch events write their records packed in one string (see PackedRecordsJson); HTTP keeps the object form.
        options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase, json =>
        {
            Json.Configure(json);
            json.Converters.Add(new RecordedUsageJson());
            json.Converters.Add(new PackedRecordsJson());
        });
        options.Events.StreamIdentity = StreamIdentity.AsString;
        // Event timestamps are the known-time axis; they come from the same clock as every decision.
        options.Events.TimeProvider = services.GetRequiredService<LedgerTime>();
        options.AddCatalog();
        options.AddCommitments();
        options.AddUsage();
        options.AddWebhookDocuments();
        options.AddDeadLetters();
        return options;
    })
    .UseLightweightSessions()
    .ApplyAllDatabaseChangesOnStartup()
    // Ledger:ProjectionDaemon=false makes a node that only ingests and serves; another node must then run the daemon.
    .AddAsyncDaemon(builder.Configuration.GetValue("Ledger:ProjectionDaemon", true) ? DaemonMode.Solo : DaemonMode.Disabled)
    .InitializeWith<ComputeLedger.Host.Usage.UsageKeyTuning>()
    .InitializeWith<ChipCatalogSeed>()
    // The outbox lives with the ledger (schema "ledger"); the PostgreSQL queues in "wolverine_queues", where consumers look.
    .IntegrateWithWolverine(w => w.MessageStorageSchemaName = "ledger");

builder.Host.UseWolverine(options =>
{
    options.ApplicationAssembly = typeof(Program).Assembly;
    // Solo for one node (./run.sh); Ledger:Durability=Balanced when several ledger nodes share the database.
    options.Durability.Mode = builder.Configuration.GetValue("Ledger:Durability", DurabilityMode.Solo);
    options.AddIntegration(builder.Configuration);
    options.AddWebhooks();
});

builder.Services.AddWolverineHttp();
builder.Services.ConfigureSystemTextJsonForWolverineOrMinimalApi(o => Json.Configure(o.SerializerOptions));
builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = Problems.FillInDetail);
builder.Services.AddExceptionHandler<ClientErrorExceptionHandler>();
builder.Services.AddLedgerHealth();
builder.Services.AddLedgerApiReference();
builder.Services.AddWebhookDelivery();
builder.AddLedgerTelemetry();
builder.Services.AddHostedService<DemoDataSeeder>();
builder.Services.AddHostedService<ComputeLedger.Host.Commitments.TrackingConsumption.CommitmentWatch>();
builder.Services.AddHostedService<ComputeLedger.Host.Usage.Closing.DayClose>();
builder.Services.AddSingleton(new ReplayProgress());

var app = builder.Build();

if (AnalystCli.Handles(args))
{
    return await AnalystCli.Run(app.Services, args);
}

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMiddleware<ApiKeyMiddleware>();
app.UseMiddleware<RequestValueGuard>();
app.UseMiddleware<JsonBodyGuard>();
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ComputeLedger.Host.Operations.Configuration.ReadyTag) });
app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthReports.Write });
app.MapLedgerTelemetry();
app.MapLedgerApiReference();
app.MapDashboard();
app.MapWolverineEndpoints();

return await app.RunJasperFxCommands(args);

public partial class Program;
