using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
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

    /// <summary>Rows are formatted into this many characters before they go to the writer and it is flushed.</summary>
    private const int Chunk = 64 * 1024;

    /// <summary>
    /// The CSV: the header, then one line per row, handed to <paramref name="writer"/> and flushed every
    /// <see cref="Chunk"/> characters, so a reader sees it arrive and at most one chunk is held. Nothing is flushed before
    /// the first chunk is full: a query that fails at once leaves an HTTP response unstarted, free to become a problem.
    /// Returns the number of rows written.
    /// </summary>
    public static async Task<long> Write(IAsyncEnumerable<FocusRow> rows, TextWriter writer, ExportProgress? progress, CancellationToken ct)
    {
        var text = new StringBuilder(Chunk + 1024);
        text.AppendJoin(',', Columns).Append(writer.NewLine);
        long written = 0;
        await foreach (var r in rows.WithCancellation(ct))
        {
            Line(text, r, writer.NewLine);
            written++;
            progress?.RowWritten();
            if (text.Length >= Chunk)
            {
                await writer.WriteAsync(text, ct);
                await writer.FlushAsync(ct);
                text.Clear();
            }
        }

        await writer.WriteAsync(text, ct);
        await writer.FlushAsync(ct);
        return written;
    }

    private static void Line(StringBuilder text, FocusRow r, string newLine)
    {
        var inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"{r.BilledCost},{r.EffectiveCost},");
        Field(text, r.BillingCurrency).Append(',').Append(Time(r.ChargePeriodStart)).Append(',').Append(Time(r.ChargePeriodEnd)).Append(',');
        Field(text, r.ChargeCategory).Append(',');
        Field(text, r.ChargeClass).Append(',');
        Field(text, r.ChargeDescription).Append(",Usage-Based,");
        text.Append(inv, $"{r.ConsumedQuantity},Chip-Hours,{r.PricingQuantity},Chip-Hours,{r.ContractedUnitPrice},");
        Field(text, r.ProviderName).Append(',');
        Field(text, r.ProviderName).Append(',');
        Field(text, r.ProviderName).Append(',');
        Field(text, r.RegionId ?? "").Append(',');
        Field(text, r.SkuId).Append(',');
        Field(text, r.SkuId).Append(",AI Accelerator Compute,AI and Machine Learning,");
        Field(text, r.CommitmentId).Append(',');
        Field(text, r.UsageId).Append(',');
        text.Append(inv, $"{r.EventId},").Append(Time(r.RecordedAt)).Append(newLine);
    }

    private static string Time(Instant value) => NodaTime.Text.InstantPattern.ExtendedIso.Format(value);

    /// <summary>RFC 4180: a field holding a comma, a quote or a line break is quoted, its quotes doubled.</summary>
    private static StringBuilder Field(StringBuilder text, string value) =>
        value.AsSpan().IndexOfAny(",\"\n\r") >= 0
            ? text.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"')
            : text.Append(value);
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
