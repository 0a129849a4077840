using System.Text.Json;
using System.Text.Json.Serialization;
using ComputeLedger.Ledger.Usage;
using NodaTime.Text;

namespace ComputeLedger.Host.Usage;

/// <summary>
/// How a record of a stored <see cref="UsageRecorded"/> is written: a positional array
/// <c>[usageId, chip, region, chipHours, start, end, tokens, rate, amount]</c> instead of an object, instants as 100 ns
/// ticks since the Unix epoch (an ISO string if finer). A batch event holds up to 10,000 records, and PostgreSQL parses
/// and stores every byte of it as jsonb inside the ingest transaction: without the nine property names and the ISO
/// dates a record is ~45% shorter, which is what PostgreSQL and the daemon pay per record. Records written as objects
/// (before this layout) still read, so no stored event needs rewriting. Used for storage only; HTTP never sends it.
/// </summary>
public sealed class RecordedUsageJson : JsonConverter<RecordedUsage>
{
    public override void Write(Utf8JsonWriter writer, RecordedUsage value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteStringValue(value.UsageId);
        writer.WriteStringValue(value.Chip);
        if (value.Region is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value.Region);
        }

        writer.WriteNumberValue(value.ChipHours);
        WriteInstant(writer, value.Start);
        WriteInstant(writer, value.End);
        if (value.Tokens is { } tokens)
        {
            writer.WriteNumberValue(tokens);
        }
        else
        {
            writer.WriteNullValue();
        }

        writer.WriteNumberValue(value.Rate);
        writer.WriteNumberValue(value.Amount);
        writer.WriteEndArray();
    }

    public override RecordedUsage Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            return ReadObject(ref reader, options);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("a recorded usage is an array or an object");
        }

        var usageId = Next(ref reader).GetString()!;
        var chip = Next(ref reader).GetString()!;
        var region = Next(ref reader).TokenType == JsonTokenType.Null ? null : reader.GetString();
        var hours = Next(ref reader).GetDecimal();
        var start = ReadInstant(ref Next(ref reader));
        var end = ReadInstant(ref Next(ref reader));
        long? tokens = Next(ref reader).TokenType == JsonTokenType.Null ? null : reader.GetInt64();
        var rate = Next(ref reader).GetInt32();
        var amount = Next(ref reader).GetDecimal();
        if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)
        {
            throw new JsonException("a recorded usage has nine elements");
        }

        return new RecordedUsage(usageId, chip, region, hours, start, end, tokens, rate, amount);
    }

    private static ref Utf8JsonReader Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType == JsonTokenType.EndArray)
        {
            throw new JsonException("a recorded usage has nine elements");
        }

        return ref reader;
    }

    private static void WriteInstant(Utf8JsonWriter writer, Instant instant)
    {
        var ticks = instant.ToUnixTimeTicks();
        if (Instant.FromUnixTimeTicks(ticks) == instant)
        {
            writer.WriteNumberValue(ticks);
        }
        else
        {
            writer.WriteStringValue(InstantPattern.ExtendedIso.Format(instant));
        }
    }

    private static Instant ReadInstant(ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.Number
        ? Instant.FromUnixTimeTicks(reader.GetInt64())
        : InstantPattern.ExtendedIso.Parse(reader.GetString()!).GetValueOrThrow();

    /// <summary>The object layout of the first batch events: read with the store's own options (camelCase, ISO instants).</summary>
    private static RecordedUsage ReadObject(ref Utf8JsonReader reader, JsonSerializerOptions options)
    {
        string? usageId = null, chip = null, region = null;
        decimal hours = 0, amount = 0;
        Instant start = default, end = default;
        long? tokens = null;
        var rate = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!.ToLowerInvariant();
            reader.Read();
            switch (name)
            {
                case "usageid": usageId = reader.GetString(); break;
                case "chip": chip = reader.GetString(); break;
                case "region": region = reader.TokenType == JsonTokenType.Null ? null : reader.GetString(); break;
                case "chiphours": hours = reader.GetDecimal(); break;
                case "start": start = JsonSerializer.Deserialize<Instant>(ref reader, options); break;
                case "end": end = JsonSerializer.Deserialize<Instant>(ref reader, options); break;
                case "tokens": tokens = reader.TokenType == JsonTokenType.Null ? null : reader.GetInt64(); break;
                case "rate": rate = reader.GetInt32(); break;
                case "amount": amount = reader.GetDecimal(); break;
                default: reader.Skip(); break;
            }
        }

        return new RecordedUsage(usageId ?? throw new JsonException("a recorded usage has a usageId"),
            chip ?? throw new JsonException("a recorded usage has a chip"), region, hours, start, end, tokens, rate, amount);
    }
}
