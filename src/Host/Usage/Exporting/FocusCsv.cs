using System.Text;
using ComputeLedger.Host.Infrastructure;
using Marten;
using Microsoft.Net.Http.Headers;

namespace ComputeLedger.Host.Usage.Exporting;

/// <summary>
/// The FOCUS export as an HTTP answer that writes rows to the response body as the events are read, so memory stays
/// flat whatever the range. The window was validated before this exists: a bad parameter is a 400 problem, never CSV.
/// </summary>
public sealed class FocusCsv(IDocumentStore store, LocalDate from, LocalDate to, TimeAxes axes) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var ct = httpContext.RequestAborted;
        response.ContentType = "text/csv; charset=utf-8";
        response.Headers[HeaderNames.ContentDisposition] = new ContentDispositionHeaderValue("attachment")
        {
            FileName = $"focus-{from:yyyy-MM-dd}-{to:yyyy-MM-dd}.csv",
        }.ToString();

        var progress = new ExportProgress();
        await using var session = store.QuerySession();
        // Not disposed: disposing flushes the body stream, which would start a 200 response even when the query failed
        // before the first chunk, when the failure can still become a problem answer. It leaves the body open anyway.
#pragma warning disable CA2000 // Deliberately not disposed: see above.
        var writer = new StreamWriter(response.Body, new UTF8Encoding(false), 16 * 1024, leaveOpen: true);
#pragma warning restore CA2000
        try
        {
            await FocusExport.Write(FocusExport.Rows(session, from, to, axes, progress, ct), writer, progress, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away; there is no one left to tell.
        }
        catch (Exception e) when (response.HasStarted)
        {
            // Part of the CSV is out, with a 200. Ending the response normally would hand the client a well-formed but
            // short file; aborting the connection makes the transfer visibly incomplete (no final chunk), so it is retried.
            httpContext.RequestServices.GetRequiredService<ILogger<FocusCsv>>().LogError(e,
                "FOCUS export {From}..{To} failed after {Events} events read and {Rows} rows written; connection aborted",
                from, to, progress.Events, progress.Rows);
            httpContext.Abort();
        }
    }
}
