using System.Globalization;
using System.Text;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
using Marten;
using Marten.Events;
using Wolverine.Http;

namespace ComputeLedger.Host.Export;

/// <summary>One charge line in FinOps FOCUS 1.x columns, plus x_ columns of our own.</summary>
public sealed record FocusRow(
    decimal BilledCost, decimal EffectiveCost, string BillingCurrency, Instant ChargePeriodStart, Instant ChargePeriodEnd,
    string ChargeCategory, string ChargeClass, string ChargeDescription, decimal ConsumedQuantity, decimal PricingQuantity,
    decimal ContractedUnitPrice, string ProviderName, string? RegionId, string SkuId, string CommitmentId, string UsageId, Guid EventId, Instant RecordedAt);

/// <summary>
/// Usage as FOCUS charges. Each consumption is a Usage charge; a void is a Correction that negates the charge it cancels;
/// a correction is a Correction pair: the old figures negated, the new ones charged. Filtered on both time axes.
/// </summary>
public static class FocusExport
{
    public static readonly string[] Columns =
    [
        "BilledCost", "EffectiveCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeClass",
        "ChargeDescription", "ChargeFrequency", "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "ContractedUnitPrice",
        "ProviderName", "PublisherName", "InvoiceIssuerName", "RegionId", "SkuId", "ResourceType", "ServiceName", "ServiceCategory",
        "x_CommitmentId", "x_UsageId", "x_EventId", "x_RecordedAt",
    ];

    [WolverineGet("/api/export/focus.csv", OperationId = "ExportFocus")]
    [Tags("Export")]
    public static async Task<IResult> Get(string? from, string? to, string? asOf, string? knownAt, IQuerySession session, ReplayProgress progress, CancellationToken ct)
    {
        var (window, problem) = Window(from, to, asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        var csv = new StringWriter(CultureInfo.InvariantCulture);
        await Write(await Rows(session, window!.Value.From, window.Value.To, window.Value.Axes, progress, ct), csv);
        return Results.Text(csv.ToString(), "text/csv", Encoding.UTF8);
    }

    /// <summary>Validates the export window: from and to are dates (inclusive), asOf/knownAt as everywhere else.</summary>
    public static ((LocalDate From, LocalDate To, TimeAxes Axes)? Window, IResult? Problem) Window(string? from, string? to, string? asOf, string? knownAt)
    {
        var errors = new List<(string, string)>();
        var f = Date(from, "from", errors);
        var t = Date(to, "to", errors);
        if (f is not null && t is not null && t < f)
        {
            errors.Add(("to", "to must not be before from."));
        }

        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return (null, problem);
        }

        return errors.Count > 0 ? (null, Problems.Invalid(errors)) : ((f!.Value, t!.Value, axes!), null);
    }

    private static LocalDate? Date(string? text, string field, List<(string, string)> errors)
    {
        if (NodaTime.Text.LocalDatePattern.Iso.Parse(text ?? "") is { Success: true } parsed)
        {
            if (Limits.Date(parsed.Value) is { } wrong)
            {
                errors.Add((field, $"{field} {wrong}"));
                return null;
            }

            return parsed.Value;
        }

        errors.Add((field, $"{field} is required as a date (yyyy-MM-dd)."));
        return null;
    }

    public static async Task<IReadOnlyList<FocusRow>> Rows(IQuerySession session, LocalDate from, LocalDate to, TimeAxes axes, ReplayProgress? progress, CancellationToken ct)
    {
        var periodStart = from.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
        var periodEnd = to.PlusDays(1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
        var query = session.RecordedBefore(axes.KnownBefore, RecordedEvents.Usage);
        var rows = new List<FocusRow>();
        long read = 0;
        await foreach (var e in query.OrderBy(e => e.Sequence).ToAsyncEnumerable(ct))
        {
            if (++read % 50_000 == 0)
            {
                progress?.Read(read);
            }

            var recordedAt = Instant.FromDateTimeOffset(e.Timestamp);
            foreach (var record in UsageEvents.Records(e.Data))
            {
                if (axes.ValidBefore is not { } validBefore || UsageReplay.ValidTime(record) < validBefore)
                {
                    rows.AddRange(Lines(record, e.Id, recordedAt).Where(r => r.ChargePeriodStart >= periodStart && r.ChargePeriodStart < periodEnd));
                }
            }
        }

        progress?.Finished(read);
        return rows;
    }

    /// <summary>The FOCUS rows of one record's event: a charge, a negated charge for a void, both for a correction.</summary>
    private static IEnumerable<FocusRow> Lines(object record, Guid eventId, Instant recordedAt) => record switch
    {
        ChipHoursConsumed c => [Line(c.CommitmentId, c.UsageId, c.Provider, c.Region, c.Chip, Figures(c), 1, "Usage", "", "Chip-hours consumed", eventId, recordedAt)],
        UsageVoided v => [Line(v.CommitmentId, v.UsageId, v.Provider, v.Region, v.Chip, v.Voided, -1, "Usage", "Correction", $"Void{Because(v.Reason)}", eventId, recordedAt)],
        UsageCorrected c =>
        [
            Line(c.CommitmentId, c.UsageId, c.Provider, c.Region, c.Chip, c.Before, -1, "Usage", "Correction", $"Correction reversal{Because(c.Reason)}", eventId, recordedAt),
            Line(c.CommitmentId, c.UsageId, c.Provider, c.Region, c.Chip, c.After, 1, "Usage", "Correction", $"Correction restatement{Because(c.Reason)}", eventId, recordedAt),
        ],
        _ => [],
    };

    private static string Because(string? reason) => string.IsNullOrWhiteSpace(reason) ? "" : $": {reason}";

    private static UsageFigures Figures(ChipHoursConsumed c) => new(c.ChipHours, c.Start, c.End, c.Tokens, c.PricePerChipHour, c.Amount, c.RateSource);

    private static FocusRow Line(string commitmentId, string usageId, string provider, string? region, string chip, UsageFigures f, int sign,
        string category, string chargeClass, string description, Guid eventId, Instant recordedAt) =>
        new(sign * f.Amount.Amount, sign * f.Amount.Amount, f.Amount.Currency, f.Start, f.End, category, chargeClass, description,
            sign * f.ChipHours, sign * f.ChipHours, f.PricePerChipHour.Amount, provider, region, chip, commitmentId, usageId, eventId, recordedAt);

    public static async Task Write(IEnumerable<FocusRow> rows, TextWriter writer)
    {
        await writer.WriteLineAsync(string.Join(',', Columns));
        foreach (var r in rows)
        {
            string[] values =
            [
                Number(r.BilledCost), Number(r.EffectiveCost), r.BillingCurrency, Time(r.ChargePeriodStart), Time(r.ChargePeriodEnd),
                r.ChargeCategory, r.ChargeClass, r.ChargeDescription, "Usage-Based", Number(r.ConsumedQuantity), "Chip-Hours",
                Number(r.PricingQuantity), "Chip-Hours", Number(r.ContractedUnitPrice), r.ProviderName, r.ProviderName, r.ProviderName,
                r.RegionId ?? "", r.SkuId, r.SkuId, "AI Accelerator Compute", "AI and Machine Learning", r.CommitmentId, r.UsageId,
                r.EventId.ToString(), Time(r.RecordedAt),
            ];
            await writer.WriteLineAsync(string.Join(',', values.Select(Escape)));
        }
    }

    private static string Number(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Time(Instant value) => NodaTime.Text.InstantPattern.ExtendedIso.Format(value);

    private static string Escape(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
}
