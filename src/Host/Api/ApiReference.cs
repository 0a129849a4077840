using ComputeLedger.Host.Catalog;
using ComputeLedger.Host.Commitments;
using ComputeLedger.Host.Commitments.AchievingMilestone;
using ComputeLedger.Host.Commitments.Declining;
using ComputeLedger.Host.Commitments.Recording;
using ComputeLedger.Host.Commitments.ReleasingTranche;
using ComputeLedger.Host.Commitments.RevokingMilestone;
using ComputeLedger.Host.Commitments.Reading;
using ComputeLedger.Host.Commitments.Signing;
using ComputeLedger.Host.Economics;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Usage.Explaining;
using ComputeLedger.Host.Operations;
using ComputeLedger.Host.Usage.Correcting;
using ComputeLedger.Host.Usage.Ingesting;
using ComputeLedger.Host.Usage.Reading;
using ComputeLedger.Host.Webhooks;
using ComputeLedger.Projections.Catalog;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace ComputeLedger.Host.Api;

/// <summary>
/// The OpenAPI document a newcomer reads at /scalar/v1: every operation named in words, its body and answers typed,
/// every status it can return listed with the ProblemDetails schema, and the X-Api-Key header as the security scheme
/// (so the reference page can try calls). The endpoints return <c>IResult</c>, which says nothing to ApiExplorer; the
/// facts live here, in one table keyed by operation id, and <c>The_api_reference_is_complete</c> fails for an operation
/// missing from it.
/// Longer than 200 lines: one entry per operation (34 of them), kept in one table so that a missing or stale entry
/// shows at a glance.
/// </summary>
public static class ApiReference
{
    public const string SecurityScheme = "ApiKey";
    private const string Problem = "ProblemDetails";

    public static IServiceCollection AddLedgerApiReference(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddSchemaTransformer((schema, context, _) =>
            {
                DescribeValueTypes(schema, context.JsonTypeInfo.Type);
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer((document, _, _) =>
            {
                Introduce(document);
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(async (operation, context, ct) =>
            {
                if (operation.OperationId is { } id && Operations.TryGetValue(id, out var op))
                {
                    await Describe(operation, op, context, ct);
                }
            });
        });

    public static WebApplication MapLedgerApiReference(this WebApplication app)
    {
        app.MapOpenApi();
        app.MapScalarApiReference(options => options
            .WithTitle("ComputeLedger API")
            .AddPreferredSecuritySchemes(SecurityScheme)
            .AddApiKeyAuthentication(SecurityScheme, key => key.Value = ""));
        return app;
    }

    private sealed record Operation(string Tag, string Summary, string Description, Type? Response, int[] Errors,
        int Success = StatusCodes.Status200OK, Type? Body = null, string ResponseMedia = "application/json", bool Ndjson = false, bool RepeatIsOk = false);

    private static readonly int[] Read = [400, 401, 403, 503];
    private static readonly int[] ReadOne = [400, 401, 403, 404, 503];
    private static readonly int[] ReadPlain = [401, 403, 503];
    private static readonly int[] Write = [400, 401, 403, 404, 409, 413, 503];
    private static readonly int[] Create = [400, 401, 403, 409, 413, 503];

    private const string Deals = "Deals and tranches";
    private const string Usage = "Usage, spend and revenue";
    private const string Lineage = "Lineage and restatements";
    private const string Catalog = "Chips and rate cards";
    private const string Webhooks = "Webhooks";
    private const string Operations_ = "Operations";

    private static readonly (string Name, string Description)[] Tags =
    [
        (Deals, "Commitments between an investor and a partner: their tranches, the milestones each waits on, and what is released, eligible or still locked."),
        (Usage, "Chip-hours consumed against commitments, and the views built from them: spend by chip, provider revenue and backlog, drawdown."),
        (Lineage, "The events behind a figure, and what changed in past figures between two known times."),
        (Catalog, "The chips the ledger knows and the prices providers publish for them."),
        (Webhooks, "Signed HTTP notifications of ledger events (admin only)."),
        (Operations_, "What an operator needs: reconciliation, dead letters and the FOCUS export."),
    ];

    private static readonly Dictionary<string, Operation> Operations = new(StringComparer.Ordinal)
    {
        ["ListCommitments"] = new(Deals, "List commitments",
            "Every commitment with its headline, released, eligible and locked amounts, on the asOf/knownAt axes.", typeof(List<CommitmentSummary>), Read),
        ["GetDeals"] = new(Deals, "Get the layout of every deal",
            "Per deal: headline split into upfront, released, eligible and locked, firm and contingent shares, compute consumed and the round trip " +
            "to the investor's own cloud; totals per investor, declined offers apart.", typeof(DealsResponse), Read),
        ["GetEligibility"] = new(Deals, "Get a commitment's tranches and eligibility",
            "One commitment with each tranche's status and the milestones it waits on. The ETag is the commitment's version.", typeof(EligibilityResponse), ReadOne),
        ["RecordCommitment"] = new(Deals, "Record a commitment",
            "Records an offered deal with its tranches and milestones (admin).", typeof(EligibilityResponse), Create, StatusCodes.Status201Created),
        ["SignCommitment"] = new(Deals, "Sign a commitment", "Marks an offered commitment signed on a date (admin).", typeof(EligibilityResponse), Write),
        ["DeclineCommitment"] = new(Deals, "Decline a commitment", "Marks an offer declined on a date; it stays listed as declined (admin).", typeof(EligibilityResponse), Write),
        ["AchieveMilestone"] = new(Deals, "Achieve a milestone",
            "Records that a milestone was achieved on a date, with evidence; tranches whose milestones are all achieved become eligible (admin).", typeof(EligibilityResponse), Write),
        ["RevokeMilestone"] = new(Deals, "Revoke a milestone", "Takes back an achieved milestone, with a reason (admin).", typeof(EligibilityResponse), Write),
        ["ReleaseTranche"] = new(Deals, "Release a tranche", "Releases an eligible tranche's money on a date (admin).", typeof(EligibilityResponse), Write),
        ["IngestUsage"] = new(Usage, "Ingest usage records",
            "Up to 10,000 records per call, as a JSON object `{\"records\": [...]}`, as NDJSON (one record per line, `Content-Type: application/x-ndjson`), " +
            "or as CloudEvents 1.0 of type compute.usage.v1 (`application/cloudevents-batch+json` or `application/cloudevents+json`; usageId derived from source and id). " +
            "Each record is accepted, a duplicate of an earlier usageId, or rejected with its errors; nothing of a rejected record is stored (admin, or an ingest key for its own provider).",
            typeof(IngestResult), [400, 401, 403, 413, 503], Body: typeof(UsageBatchBody), Ndjson: true),
        ["VoidUsage"] = new(Usage, "Void a usage record", "Takes a recorded usage record out of every figure, with a reason; its lineage keeps both (admin).",
            typeof(UsageRecordAnswer), Write),
        ["CorrectUsage"] = new(Usage, "Correct a usage record", "Replaces a record's hours, window or tokens; figures are restated, lineage keeps both (admin).",
            typeof(UsageRecordAnswer), Write),
        ["GetChipSpend"] = new(Usage, "Get spend by chip per month",
            "Chip-hours, spend, tokens and cost per 1M tokens per chip, provider and month, with the projection's lag.", typeof(SpendResponse), Read),
        ["GetProviderRevenue"] = new(Usage, "Get provider revenue and backlog per month",
            "Revenue and the backlog of active commitments per provider and month, with the projection's lag.", typeof(RevenueResponse), Read),
        ["GetProviderRevenueYearly"] = new(Usage, "Get provider revenue and growth per year",
            "Per provider and year: revenue, backlog at year end, growth on the year before and share of all providers' revenue.", typeof(YearlyRevenueResponse), Read),
        ["GetDrawdown"] = new(Usage, "Get a commitment's drawdown",
            "Consumed against committed compute, by chip and month, with the straight-line projection and the projected shortfall.", typeof(DrawdownResponse), ReadOne),
        ["ExplainTranche"] = new(Lineage, "Explain a tranche's status", "The commitment events that give a tranche its status on these axes.", typeof(Explanation), ReadOne),
        ["ExplainChipSpend"] = new(Lineage, "Explain a chip-month's spend",
            "The signed usage entries behind one chip's spend at a provider in a month, paged (`limit`, `after`); their amounts add up to the figure.", typeof(LineagePage), ReadOne),
        ["ExplainProviderRevenue"] = new(Lineage, "Explain a provider-month's revenue",
            "The signed usage entries behind a provider's revenue in a month, paged (`limit`, `after`).", typeof(LineagePage), ReadOne),
        ["ListRestatements"] = new(Lineage, "List restatements between two known times",
            "Past figures that changed between knownFrom and knownTo (late usage, voids, corrections), old and new.", typeof(RestatementsResponse), Read),
        ["ListChips"] = new(Catalog, "List chips", "The chip catalogue, with each chip's specifications in force today.", typeof(List<ChipResponse>), ReadPlain),
        ["PublishChipSpecs"] = new(Catalog, "Publish a chip's specifications",
            "FP16 TFLOPS, TFLOPS per watt, inference latency and list cost per 1M tokens from a date on; unknown values stay null (admin).",
            typeof(ChipResponse), Write, StatusCodes.Status201Created, RepeatIsOk: true),
        ["GetChipEconomics"] = new(Usage, "Get chip economics",
            "Per chip (and provider): chip-hours, spend, price per chip-hour, cost per H100-equivalent hour and the saving against H100, " +
            "measured and list cost per 1M tokens, energy. Figures whose inputs are unknown are null, never 0.", typeof(ChipEconomicsResponse), Read),
        ["AddChip"] = new(Catalog, "Add a chip", "Adds a chip to the catalogue (admin).", typeof(ChipView), Create, StatusCodes.Status201Created),
        ["PublishProviderRates"] = new(Catalog, "Publish a provider's rate card",
            "Prices per chip-hour by chip and region from a date on (admin). The same card again is a no-op answered 200.", typeof(RateBookAnswer), Write, StatusCodes.Status201Created, RepeatIsOk: true),
        ["PublishCommitmentRates"] = new(Catalog, "Publish a commitment's negotiated rates",
            "Overrides the provider's prices for one commitment from a date on (admin).", typeof(RateBookAnswer), Write, StatusCodes.Status201Created, RepeatIsOk: true),
        ["GetProviderRates"] = new(Catalog, "Get a provider's rate cards", "Every rate card the provider published, in order.", typeof(RateBookAnswer), ReadOne),
        ["RegisterWebhook"] = new(Webhooks, "Register a webhook", "Delivers the chosen ledger events to a URL, signed with the secret (admin).",
            typeof(WebhookView), [400, 401, 403, 413, 503], StatusCodes.Status201Created),
        ["ListWebhooks"] = new(Webhooks, "List webhooks", "Every registered webhook (admin).", typeof(WebhookList), ReadPlain),
        ["DeleteWebhook"] = new(Webhooks, "Delete a webhook", "Stops deliveries to a webhook (admin).", null, [400, 401, 403, 404, 503], StatusCodes.Status204NoContent),
        ["WebhookDeliveries"] = new(Webhooks, "List a webhook's deliveries", "Each delivery attempt and its outcome (admin).", typeof(DeliveryLog), [400, 401, 403, 404, 503]),
        ["GetReconciliation"] = new(Operations_, "Reconcile every view", "Checks that spend, revenue and drawdown add up to the same total per currency.",
            typeof(ReconciliationResponse), Read),
        ["ListDeadLetters"] = new(Operations_, "List dead letters", "Messages the ledger could not handle, newest first (admin).", typeof(DeadLettersResponse), Read),
        ["ExportFocus"] = new(Operations_, "Export usage as FOCUS CSV",
            "Usage between two dates (inclusive) as FinOps FOCUS rows, streamed as CSV, with FOCUS 1.3's commitment columns and ContractApplied.", typeof(string), Read, ResponseMedia: "text/csv"),
        ["ExportContractCommitments"] = new(Operations_, "Export contract commitments as FOCUS CSV",
            "The signed compute commitments whose term meets the dates, as FOCUS 1.3 Contract Commitment rows (a compute line and a line per tranche), " +
            "joinable to the usage export through ContractApplied.", typeof(string), Read, ResponseMedia: "text/csv"),
    };

    private const string Introduction = """
        **ComputeLedger** is an event-sourced ledger of AI compute deals: commitments between an investor and a partner
        (headline, tranches, the milestones each tranche waits on) and the chip-hours consumed against them. Every figure
        is a fold of recorded events, so each can be asked for at another point in time and explained by its events.

        **Keys.** Every `/api/` call carries an `X-Api-Key` header (use *Authorize* on this page). An **admin** key may do
        everything; an **analyst** key reads (not webhooks or dead letters); an **ingest** key only posts usage for its own
        provider. A missing or unknown key is a 401, a key whose role may not make the call a 403. The development host
        (`./run.sh`) knows `dev-admin`, `dev-analyst` and `dev-ingest` (provider AWS).

        **Two time axes.** `asOf` keeps facts whose business (valid) time is before the cut-off: "what was true then".
        `knownAt` keeps events the ledger had recorded by the cut-off: "what we knew then". A date means the end of that
        day (UTC), an instant means at or before it. Without either, a read answers now on both.

        **Errors** are RFC 7807 problem details whose `detail` says what to fix; 400s name the field in `errors`.
        503 means a transient fault (retry after `Retry-After`); nothing of a failed write is stored.
        """;

    private static void Introduce(OpenApiDocument document)
    {
        document.Info.Title = "ComputeLedger API";
        document.Info.Description = Introduction;
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SecurityScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyMiddleware.Header,
            Description = "An admin, analyst or ingest key (development: dev-admin, dev-analyst, dev-ingest).",
        };
        document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));
        // What ApiExplorer made of the endpoints' IResult return type; every operation's answers are described above instead.
        document.Components.Schemas?.Remove("IResult");
    }

    private static async Task Describe(OpenApiOperation operation, Operation op, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var document = context.Document!;
        operation.Summary = op.Summary;
        operation.Description = op.Description;
        operation.Tags = new HashSet<OpenApiTagReference> { new(op.Tag, document) };
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SecurityScheme, document)] = [] }];

        if (op.Body is { } body)
        {
            var schema = await context.GetOrCreateSchemaAsync(body, null, ct);
            var content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } };
            if (op.Ndjson)
            {
                content["application/x-ndjson"] = new OpenApiMediaType
                {
                    // The schema is that of one line: NDJSON is one usage record per line.
                    Schema = await context.GetOrCreateSchemaAsync(typeof(UsageRecordBody), null, ct),
                };
            }

            operation.RequestBody = new OpenApiRequestBody { Required = true, Content = content, Description = op.Ndjson ? "JSON `{\"records\": [...]}`, or NDJSON: one usage record per line (the schema is that of one line)." : null };
        }

        operation.Responses = new OpenApiResponses();
        var success = new OpenApiResponse { Description = SuccessText(op.Success) };
        if (op.Response is { } response)
        {
            success.Content = new Dictionary<string, OpenApiMediaType>
            {
                [op.ResponseMedia] = new() { Schema = await context.GetOrCreateSchemaAsync(response, null, ct) },
            };
        }

        operation.Responses[op.Success.ToString(System.Globalization.CultureInfo.InvariantCulture)] = success;
        if (op.RepeatIsOk && op.Response is { } same)
        {
            operation.Responses["200"] = new OpenApiResponse
            {
                Description = "Already recorded: the same request again changes nothing.",
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(same, null, ct) } },
            };
        }

        if (!document.Components!.Schemas!.ContainsKey(Problem))
        {
            document.AddComponent(Problem, await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, ct));
        }

        foreach (var status in op.Errors)
        {
            operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = ErrorText(status),
                Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(Problem, document) } },
            };
        }
    }

    private static string SuccessText(int status) => status switch
    {
        201 => "Recorded.",
        204 => "Done; no content.",
        _ => "OK.",
    };

    private static string ErrorText(int status) => status switch
    {
        400 => "A parameter or body field is invalid; `errors` names each field and says what to fix.",
        401 => "The X-Api-Key header is missing or the key is unknown.",
        403 => "The key's role may not make this call (or an ingest key posted for another provider).",
        404 => "What the path names does not exist (or was not yet recorded at knownAt).",
        409 => "The request conflicts with the ledger's state (a rule, a duplicate, or a concurrent change: reload and retry).",
        413 => "The body is larger than this endpoint takes; nothing was stored.",
        503 => "The database is unavailable for a moment; retry after Retry-After. Nothing of a failed write was stored.",
        _ => "Error.",
    };

    /// <summary>NodaTime values travel as ISO strings; without this they would show as objects of their properties.</summary>
    private static void DescribeValueTypes(OpenApiSchema schema, Type type)
    {
        var (format, example) = (Nullable.GetUnderlyingType(type) ?? type) switch
        {
            var t when t == typeof(Instant) => ("date-time", "2025-03-01T12:00:00Z"),
            var t when t == typeof(LocalDate) => ("date", "2025-03-01"),
            var t when t == typeof(YearMonth) => ("year-month", "2025-03"),
            _ => (null, null),
        };
        if (format is null)
        {
            return;
        }

        schema.Type = JsonSchemaType.String | (Nullable.GetUnderlyingType(type) is null ? 0 : JsonSchemaType.Null);
        schema.Format = format;
        schema.Properties?.Clear();
        schema.Required?.Clear();
        schema.Description ??= $"ISO 8601, e.g. {example}";
    }
}

/// <summary>The answer of a void or correction: the record as it stands now (documentation of its shape).</summary>
public sealed record UsageRecordAnswer(string UsageId, string CommitmentId, string Provider, string Chip, string Region, bool Voided,
    decimal ChipHours, Instant Start, Instant End, long? Tokens, Money PricePerChipHour, Money Amount);

/// <summary>A scope's rate cards (documentation of the rate endpoints' shape).</summary>
public sealed record RateBookAnswer(string Provider, string? CommitmentId, IReadOnlyList<ComputeLedger.Ledger.Catalog.RateCardPublished> Cards);

/// <summary>The webhook list (documentation of its shape).</summary>
public sealed record WebhookList(IReadOnlyList<WebhookView> Webhooks);
