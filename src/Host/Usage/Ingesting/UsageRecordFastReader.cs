using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace ComputeLedger.Host.Usage.Ingesting;

/// <summary>
/// Reads one NDJSON usage line of the common shape straight from its UTF-8 bytes, without System.Text.Json's
/// constructor converter or NodaTime's pattern parser (together ~3.8 µs a record in bench/ingest.sh). It only accepts
/// what it can read exactly as <c>JsonSerializer.Deserialize&lt;UsageRecordBody&gt;(line, Json.Options)</c> would:
/// one object whose names are the nine camelCase names, each once and unescaped; unescaped strings; chipHours and tokens
/// as JSON numbers read by the same reader calls the serializer makes; start and end as <c>YYYY-MM-DDTHH:MM:SSZ</c>;
/// nothing but whitespace after the object. Anything else it declines, and the caller asks the serializer, so what a
/// record means and every error message stay the serializer's.
/// </summary>
public static class UsageRecordFastReader
{
    private const int UsageId = 0, CommitmentId = 1, Provider = 2, Chip = 3, Region = 4, ChipHours = 5, Start = 6, End = 7, Tokens = 8;

    /// <summary>
    /// The strings a batch repeats in every record (commitment, provider, chip, region), as last read: a line whose value
    /// has the same bytes gets the same string instead of a new one. One per batch being read; not thread-safe.
    /// </summary>
    public sealed class Repeats
    {
        internal readonly string?[] Last = new string?[Region + 1];
    }

    /// <summary>True with the record when the line has the common shape; false when the serializer must decide.</summary>
    public static bool TryRead(ReadOnlySpan<byte> line, [NotNullWhen(true)] out UsageRecordBody? record, Repeats? repeats = null)
    {
        record = null;
        try
        {
            return TryReadObject(line, out record, repeats);
        }
        catch (JsonException)
        {
            // Malformed JSON (including comments and trailing commas, which the reader's defaults refuse as the
            // serializer's options do): the serializer throws its own error with its own wording.
            return false;
        }
    }

    private static bool TryReadObject(ReadOnlySpan<byte> line, [NotNullWhen(true)] out UsageRecordBody? record, Repeats? repeats)
    {
        record = null;
        var reader = new Utf8JsonReader(line);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        string? usageId = null, commitmentId = null, provider = null, chip = null, region = null;
        decimal? chipHours = null;
        Instant? start = null, end = null;
        long? tokens = null;
        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = reader.ValueIsEscaped ? -1 : Field(reader.ValueSpan);
            if (field < 0 || (seen & (1 << field)) != 0 || !reader.Read())
            {
                return false;
            }

            seen |= 1 << field;
            var ok = field switch
            {
                UsageId => TryString(ref reader, out usageId),
                CommitmentId => TryString(ref reader, out commitmentId, repeats, CommitmentId),
                Provider => TryString(ref reader, out provider, repeats, Provider),
                Chip => TryString(ref reader, out chip, repeats, Chip),
                Region => TryString(ref reader, out region, repeats, Region),
                ChipHours => TryDecimal(ref reader, out chipHours),
                Start => TryInstant(ref reader, out start),
                End => TryInstant(ref reader, out end),
                _ => TryInt64(ref reader, out tokens),
            };
            if (!ok)
            {
                return false;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || line[(int)reader.BytesConsumed..].IndexOfAnyExcept(" \t\r\n"u8) >= 0)
        {
            return false;
        }

        record = new UsageRecordBody(usageId, commitmentId, provider, chip, region, chipHours, start, end, tokens);
        return true;
    }

    /// <summary>Exact camelCase names only: another spelling the serializer would match case-insensitively is its call.</summary>
    private static int Field(ReadOnlySpan<byte> name) => name.Length switch
    {
        7 when name.SequenceEqual("usageId"u8) => UsageId,
        12 when name.SequenceEqual("commitmentId"u8) => CommitmentId,
        8 when name.SequenceEqual("provider"u8) => Provider,
        4 when name.SequenceEqual("chip"u8) => Chip,
        6 when name.SequenceEqual("region"u8) => Region,
        9 when name.SequenceEqual("chipHours"u8) => ChipHours,
        5 when name.SequenceEqual("start"u8) => Start,
        3 when name.SequenceEqual("end"u8) => End,
        6 when name.SequenceEqual("tokens"u8) => Tokens,
        _ => -1,
    };

    private static bool TryString(ref Utf8JsonReader reader, out string? value, Repeats? repeats = null, int field = 0)
    {
        value = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped)
        {
            return false;
        }

        // The same ASCII bytes as the last value of this field: the same string (Ascii.Equals is false for non-ASCII).
        if (repeats?.Last[field] is { } last && System.Text.Ascii.Equals(reader.ValueSpan, last))
        {
            value = last;
            return true;
        }

        try
        {
            value = reader.GetString();
            if (repeats is not null)
            {
                repeats.Last[field] = value;
            }

            return true;
        }
        catch (InvalidOperationException)
        {
            // Invalid UTF-8 in the string (the reader does not check it, the transcoding does): the serializer's call.
            return false;
        }
    }

    /// <summary>A JSON number through <c>TryGetDecimal</c>, the call behind the serializer's decimal; a quoted number is its call.</summary>
    private static bool TryDecimal(ref Utf8JsonReader reader, out decimal? value)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDecimal(out var number))
        {
            value = number;
            return true;
        }

        value = null;
        return reader.TokenType == JsonTokenType.Null;
    }

    private static bool TryInt64(ref Utf8JsonReader reader, out long? value)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number))
        {
            value = number;
            return true;
        }

        value = null;
        return reader.TokenType == JsonTokenType.Null;
    }

    /// <summary>
    /// Whole-second UTC in the one 20-byte shape <c>YYYY-MM-DDTHH:MM:SSZ</c> of a real calendar date in years 1–9999;
    /// fractions, offsets, year 0 and the rest of what NodaTime's extended ISO pattern reads are left to it.
    /// </summary>
    private static bool TryInstant(ref Utf8JsonReader reader, out Instant? value)
    {
        value = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped)
        {
            return false;
        }

        var s = reader.ValueSpan;
        if (s.Length != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z'
            || !TryDigits(s[..4], out var year) || !TryDigits(s[5..7], out var month) || !TryDigits(s[8..10], out var day)
            || !TryDigits(s[11..13], out var hour) || !TryDigits(s[14..16], out var minute) || !TryDigits(s[17..19], out var second)
            || year < 1 || month is < 1 or > 12 || day < 1 || day > CalendarSystem.Iso.GetDaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        value = Instant.FromUtc(year, month, day, hour, minute, second);
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (var b in digits)
        {
            var digit = b - '0';
            if ((uint)digit > 9)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        return true;
    }
}
