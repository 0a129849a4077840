using Marten;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ComputeLedger.Host.Infrastructure.Telemetry;

/// <summary>
/// OpenTelemetry for the ledger: traces of HTTP requests, the PostgreSQL commands under them, Wolverine's message handling
/// and the webhook POSTs it makes (Wolverine carries the trace context in each envelope, so one trace runs from
/// POST /api/usage to the webhook it causes); metrics of ASP.NET Core, the runtime, Npgsql and the ledger itself.
/// Exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the standard OTEL_* variables apply), and scraped at
/// Ledger:Telemetry:PrometheusPath (default /metrics) when Ledger:Telemetry:Prometheus is true (default in Development).
/// Ledger:Telemetry:Enabled=false (or OTEL_SDK_DISABLED=true) switches all of it off.
/// </summary>
public static class Configuration
{
    public const string ServiceName = "compute-ledger";

    public static WebApplicationBuilder AddLedgerTelemetry(this WebApplicationBuilder builder)
    {
        var settings = Settings.From(builder.Configuration, builder.Environment);
        builder.Services.AddSingleton(settings);
        if (!settings.Enabled)
        {
            return builder;
        }

        builder.Services.AddHostedService<LedgerGauges>();
        builder.Services.ConfigureMarten(options => options.Listeners.Add(new CommittedEventsListener()));
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithTracing(tracing =>
            {
                tracing.AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments(settings.PrometheusPath))
                    .AddHttpClientInstrumentation()
                    .AddNpgsql()
                    .AddSource("Wolverine", LedgerMetrics.MeterName);
                if (settings.Otlp)
                {
                    tracing.AddOtlpExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation()
                    .AddMeter(LedgerMetrics.MeterName);
                if (settings.Otlp)
                {
                    metrics.AddOtlpExporter();
                }

                if (settings.Prometheus)
                {
                    metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0); // a scrape sees the counts of now
                }
            });
        return builder;
    }

    public static WebApplication MapLedgerTelemetry(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<Settings>();
        if (settings is { Enabled: true, Prometheus: true })
        {
            // Outside /api, so no API key: like /health, it is for the operator's scraper, and says nothing about any deal.
            app.MapPrometheusScrapingEndpoint(settings.PrometheusPath);
        }

        return app;
    }

    public sealed record Settings(bool Enabled, bool Prometheus, string PrometheusPath, bool Otlp)
    {
        public static Settings From(IConfiguration configuration, IHostEnvironment environment) => new(
            configuration.GetValue("Ledger:Telemetry:Enabled", true) && !configuration.GetValue("OTEL_SDK_DISABLED", false),
            configuration.GetValue("Ledger:Telemetry:Prometheus", environment.IsDevelopment()),
            configuration["Ledger:Telemetry:PrometheusPath"] is { Length: > 1 } path && path.StartsWith('/') ? path : "/metrics",
            !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]));
    }
}
