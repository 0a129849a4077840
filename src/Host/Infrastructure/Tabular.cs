using CsvHelper;
using Spectre.Console;

namespace ComputeLedger.Host.Infrastructure;

/// <summary>
/// The one writer of rows for people and programs: CSV (RFC 4180 quoting, LF line ends, invariant numbers) for the HTTP
/// export and the CLI, and a console table for the CLI.
/// </summary>
public static class Tabular
{
    /// <summary>LF, as the export always wrote: readers of either ending accept it, and existing files keep comparing equal.</summary>
    public static readonly CsvWriterOptions Csv = CsvWriterOptions.Default with { NewLine = "\n" };

    /// <summary>
    /// Writes the header, then a record per row as the rows arrive. The CSV writer's buffer (64 KiB) is the chunk: it goes
    /// to <paramref name="destination"/> when full, so a reader sees rows arrive and at most a chunk is held, and nothing
    /// reaches it before the first chunk is full, so a query that fails at once leaves an HTTP response unstarted, free to
    /// become a problem answer. Flushed at the end. Returns the number of rows written.
    /// </summary>
    public static async Task<long> WriteCsv<T>(IReadOnlyList<string> header, IAsyncEnumerable<T> rows, Action<CsvWriter, T> fields,
        TextWriter destination, Action? rowWritten, CancellationToken ct)
    {
        // Not disposed on failure: disposing writes the buffer out and flushes the destination, which would start a 200
        // response for a query that failed before its first chunk. The buffer is garbage once the method has thrown.
#pragma warning disable CA2000
        var csv = CsvWriter.Create(destination, Csv, leaveOpen: true);
#pragma warning restore CA2000
        csv.WriteHeader([.. header]);
        long written = 0;
        await foreach (var row in rows.WithCancellation(ct))
        {
            fields(csv, row);
            await csv.EndRecordAsync(ct);
            written++;
            rowWritten?.Invoke();
        }

        await csv.FlushAsync(ct);
        await csv.DisposeAsync();
        return written;
    }

    /// <summary>Text rows (column → cell) as CSV: the columns are every key seen, in order of first appearance.</summary>
    public static async Task<long> WriteCsv(IReadOnlyList<IReadOnlyDictionary<string, string>> rows, TextWriter destination, CancellationToken ct)
    {
        var columns = ColumnsOf(rows);
        if (columns.Count == 0)
        {
            // No rows, so no columns: an empty header line (a CSV record needs a field).
            await destination.WriteLineAsync();
            return 0;
        }

        return await WriteCsv(columns, rows.ToAsyncEnumerable(), (csv, row) =>
        {
            foreach (var column in columns)
            {
                csv.WriteField(row.GetValueOrDefault(column, ""));
            }
        }, destination, null, ct);
    }

    /// <summary>Text rows as a console table; long cells are cut at 40 characters, columns whose name says so are left out.</summary>
    public static void WriteTable(IReadOnlyList<IReadOnlyDictionary<string, string>> rows, IAnsiConsole console, Func<string, bool> leaveOut)
    {
        var columns = ColumnsOf(rows).Where(c => !leaveOut(c)).ToList();
        if (columns.Count == 0)
        {
            return;
        }

        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(Markup.Escape(column)) { NoWrap = true });
        }

        foreach (var row in rows)
        {
            table.AddRow(columns.Select(c => Markup.Escape(Cut(row.GetValueOrDefault(c, "")))).ToArray());
        }

        console.Write(table);
    }

    private static string Cut(string text) => text.Length > 40 ? text[..39] + "…" : text;

    private static List<string> ColumnsOf(IEnumerable<IReadOnlyDictionary<string, string>> rows) => rows.SelectMany(r => r.Keys).Distinct().ToList();
}
