using System.Globalization;
using System.Runtime.CompilerServices;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
using CsvHelper;
using Marten;
using Marten.Events;
using Wolverine.Http;

namespace ComputeLedger.Host.Usage.Exporting;

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
    public static IResult Get(string? from, string? to, string? asOf, string? knownAt, IDocumentStore store)
    {
        var (window, problem) = Window(from, to, asOf, knownAt);
        return problem ?? new FocusCsv(store, window!.Value.From, window.Value.To, window.Value.Axes);
    }

    /// <summary>Validates the export window: from and to are dates (inclusive), asOf/knownAt as everywhere else.</summary>
    public static ((LocalDate From, LocalDate To, TimeAxes Axes)? Window, IResult? Problem) Window(string? from, string? to, string? asOf, string? knownAt)
    {
        var errors = new List<(string Field, string Message)>();
        var window = Window(from, to, asOf, knownAt, errors);
        return window is null ? (null, Problems.Invalid(errors)) : (window, null);
    }

    /// <summary>The window, or null with what is wrong added to <paramref name="errors"/>; bad axes are reported alone.</summary>
    public static (LocalDate From, LocalDate To, TimeAxes Axes)? Window(string? from, string? to, string? asOf, string? knownAt,
        List<(string Field, string Message)> errors)
    {
        var dates = new List<(string, string)>();
        var f = Date(from, "from", dates);
        var t = Date(to, "to", dates);
        if (f is not null && t is not null && t < f)
        {
            dates.Add(("to", "to must not be before from."));
        }

        if (TimeAxes.Parse(asOf, knownAt, errors) is not { } axes)
        {
            return null;
        }

        errors.AddRange(dates);
        return dates.Count > 0 ? null : (f!.Value, t!.Value, axes);
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

    /// <summary>
    /// The rows in event order, produced as the events are read: Marten's <c>ToAsyncEnumerable</c> reads one data row at
    /// a time from an open reader, so nothing here grows with the range.
    /// </summary>
    public static async IAsyncEnumerable<FocusRow> Rows(IQuerySession session, LocalDate from, LocalDate to, TimeAxes axes,
        ExportProgress? progress, [EnumeratorCancellation] CancellationToken ct)
    {
        var periodStart = from.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
        var periodEnd = to.PlusDays(1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
        var query = session.RecordedBefore(axes.KnownBefore, RecordedEvents.Usage);
        await foreach (var e in query.OrderBy(e => e.Sequence).ToAsyncEnumerable(ct))
        {
            progress?.EventRead();
            var recordedAt = Instant.FromDateTimeOffset(e.Timestamp);
            foreach (var record in UsageEvents.Records(e.Data))
            {
                if (axes.ValidBefore is not { } validBefore || UsageReplay.ValidTime(record) < validBefore)
                {
                    foreach (var row in Lines(record, e.Id, recordedAt))
                    {
                        if (row.ChargePeriodStart >= periodStart && row.ChargePeriodStart < periodEnd)
                        {
                            yield return row;
                        }
                    }
                }
            }
        }
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

    /// <summary>
    /// The CSV: the header, then one line per row, written through the shared CSV writer as the rows arrive (see
    /// <see cref="Tabular.WriteCsv{T}"/> for when it reaches <paramref name="writer"/>). Returns the number of rows written.
    /// </summary>
    public static Task<long> Write(IAsyncEnumerable<FocusRow> rows, TextWriter writer, ExportProgress? progress, CancellationToken ct) =>
        Tabular.WriteCsv(Columns, rows, Line, writer, progress is null ? null : new Action(progress.RowWritten), ct);

    private static void Line(CsvWriter csv, FocusRow r)
    {
        csv.WriteField(Number(r.BilledCost));
        csv.WriteField(Number(r.EffectiveCost));
        csv.WriteField(r.BillingCurrency);
        csv.WriteField(Time(r.ChargePeriodStart));
        csv.WriteField(Time(r.ChargePeriodEnd));
        csv.WriteField(r.ChargeCategory);
        csv.WriteField(r.ChargeClass);
        csv.WriteField(r.ChargeDescription);
        csv.WriteField("Usage-Based");
        csv.WriteField(Number(r.ConsumedQuantity));
        csv.WriteField("Chip-Hours");
        csv.WriteField(Number(r.PricingQuantity));
        csv.WriteField("Chip-Hours");
        csv.WriteField(Number(r.ContractedUnitPrice));
        csv.WriteField(r.ProviderName);
        csv.WriteField(r.ProviderName);
        csv.WriteField(r.ProviderName);
        csv.WriteField(r.RegionId ?? "");
        csv.WriteField(r.SkuId);
        csv.WriteField(r.SkuId);
        csv.WriteField("AI Accelerator Compute");
        csv.WriteField("AI and Machine Learning");
        csv.WriteField(r.CommitmentId);
        csv.WriteField(r.UsageId);
        csv.WriteField(r.EventId.ToString());
        csv.WriteField(Time(r.RecordedAt));
    }

    private static string Number(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Time(Instant value) => NodaTime.Text.InstantPattern.ExtendedIso.Format(value);
}

/// <summary>
/// How far an export has got: events read and rows written. <paramref name="report"/>, if any, is told after each event
/// read (the CLI prints from it); it must be cheap.
/// </summary>
public sealed class ExportProgress(Action<ExportProgress>? report = null)
{
    public long Events { get; private set; }

    public long Rows { get; private set; }

    internal void EventRead()
    {
        Events++;
        report?.Invoke(this);
    }

    internal void RowWritten() => Rows++;
}
