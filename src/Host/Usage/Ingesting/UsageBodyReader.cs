using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using ComputeLedger.Host.Infrastructure;
using Microsoft.AspNetCore.Http.Features;

namespace ComputeLedger.Host.Usage.Ingesting;

/// <summary>
/// Reads a usage batch as JSON (<c>{"records":[...]}</c>) or NDJSON (one record per line). Whole-batch failures come
/// back as a problem: malformed → 400, over 10,000 records or 16 MiB → 413, another media type → 415.
/// Longer than 200 lines: the JSON and NDJSON readers share their limits and their error wording here, and split
/// apart each would carry a copy of both.
/// </summary>
public static class UsageBodyReader
{
    public static async Task<(IReadOnlyList<UsageRecordBody?>? Records, IResult? Problem)> Read(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > IngestUsageEndpoint.MaxBytes)
        {
            return (null, TooLarge($"The body is {request.ContentLength} bytes; the limit is 16 MiB. Split the batch."));
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = IngestUsageEndpoint.MaxBytes + 1;
        }

        var mediaType = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        var ndjson = mediaType is "application/x-ndjson" or "application/ndjson" or "application/jsonl";
        if (!ndjson && mediaType is not (null or "" or "application/json" or "text/json"))
        {
            return (null, Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"Send usage as application/json ({{\"records\":[...]}}) or application/x-ndjson (one record per line), not '{request.ContentType}'."));
        }

        await using var body = new LimitedStream(request.Body, IngestUsageEndpoint.MaxBytes);
        try
        {
            var records = ndjson ? await ReadNdjson(body, ct) : await ReadJson(body, ct);
            if (records is null)
            {
                return (null, Problems.Invalid("records",
                    "the body must be a JSON object with a 'records' array: { \"records\": [ { \"usageId\": \"...\", ... } ] }. Nothing was stored."));
            }

            return records.Count > IngestUsageEndpoint.MaxRecords
                ? (null, TooLarge($"The batch has {records.Count} records; the limit is {IngestUsageEndpoint.MaxRecords}. Split it."))
                : (records, null);
        }
        catch (BodyTooLargeException)
        {
            return (null, TooLarge("The body is larger than 16 MiB. Split the batch."));
        }
        catch (JsonException e)
        {
            var (field, message) = JsonShape.Explain(typeof(UsageBatchBody), e);
            return (null, Malformed(field, message));
        }
        catch (MalformedLineException e)
        {
            return (null, Malformed(e.Field, e.Message));
        }
    }

    private static IResult Malformed(string field, string message) =>
        Problems.Invalid([(field, $"{message} Nothing of the batch was stored; fix it and resend the batch.")]);

    private static IResult TooLarge(string detail) =>
        Problems.Status(StatusCodes.Status413PayloadTooLarge, "Usage batch too large", detail + " Nothing was stored.");

    private static async Task<List<UsageRecordBody?>?> ReadJson(Stream body, CancellationToken ct)
    {
        var batch = await JsonSerializer.DeserializeAsync<UsageBatchBody>(body, Json.Options, ct);
        return batch?.Records;
    }

    /// <summary>
    /// One record per line, parsed from the body's UTF-8 bytes as they arrive: no string per line, no second copy of the
    /// body. A buffer holds the lines not yet parsed (it grows only for a line longer than itself, within the 16 MiB limit).
    /// </summary>
    private static async Task<List<UsageRecordBody?>> ReadNdjson(Stream body, CancellationToken ct)
    {
        var lines = new NdjsonLines();
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int start = 0, end = 0;
            while (lines.Records.Count <= IngestUsageEndpoint.MaxRecords)
            {
                if (end == buffer.Length)
                {
                    var larger = start == 0 ? ArrayPool<byte>.Shared.Rent(buffer.Length * 2) : buffer;
                    Buffer.BlockCopy(buffer, start, larger, 0, end - start);
                    if (larger != buffer)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    (start, end) = (0, end - start);
                }

                var read = await body.ReadAsync(buffer.AsMemory(end), ct);
                end += read;
                start += lines.Parse(buffer.AsSpan(start, end - start), final: read == 0);
                if (start == end)
                {
                    (start, end) = (0, 0);
                }
                if (read == 0)
                {
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return lines.Records;
    }

    private sealed class NdjsonLines
    {
        private int _lineNumber;
        private readonly UsageRecordFastReader.Repeats _repeats = new();

        public List<UsageRecordBody?> Records { get; } = [];

        /// <summary>Parses the complete lines of <paramref name="text"/> (and the unterminated last one when <paramref name="final"/>); returns the bytes consumed.</summary>
        public int Parse(ReadOnlySpan<byte> text, bool final)
        {
            var consumed = 0;
            while (Records.Count <= IngestUsageEndpoint.MaxRecords)
            {
                var rest = text[consumed..];
                var newline = rest.IndexOf((byte)'\n');
                if (newline < 0 && (!final || rest.IsEmpty))
                {
                    break;
                }

                var line = newline < 0 ? rest : rest[..newline];
                consumed += newline < 0 ? rest.Length : newline + 1;
                _lineNumber++;
                if (line.IndexOfAnyExcept(" \t\r"u8) < 0)
                {
                    continue;
                }

                try
                {
                    if (!Utf8.IsValid(line))
                    {
                        throw new MalformedLineException($"records[{Records.Count}]", $"line {_lineNumber}: not valid UTF-8: send the text encoded as UTF-8.");
                    }

                    // The common shape is read straight from the bytes; any other line, and every error, is the serializer's.
                    Records.Add(UsageRecordFastReader.TryRead(line, out var record, _repeats) ? record : JsonSerializer.Deserialize<UsageRecordBody>(line, Json.Options));
                }
                catch (JsonException e)
                {
                    var (field, message) = JsonShape.Explain(typeof(UsageRecordBody), e, $"records[{Records.Count}].");
                    throw new MalformedLineException(field, $"line {_lineNumber}: {message}");
                }
            }

            return consumed;
        }
    }

    private sealed class BodyTooLargeException : Exception;

    private sealed class MalformedLineException(string field, string message) : Exception(message)
    {
        public string Field { get; } = field;
    }

    /// <summary>Counts what is read and stops past the limit, whatever the Content-Length said (chunked bodies).</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int n)
        {
            _read += n;
            return _read > limit ? throw new BodyTooLargeException() : n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
