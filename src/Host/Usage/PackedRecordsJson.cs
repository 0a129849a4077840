using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ComputeLedger.Ledger.Usage;
using NodaTime.Text;

namespace ComputeLedger.Host.Usage;

/// <summary>
/// How the records of a stored <see cref="UsageRecorded"/> are written: one JSON string, records separated by <c>;</c>,
/// fields by <c>,</c>, in the order of <see cref="RecordedUsageJson"/>'s arrays
/// (<c>usageId,chip,region,chipHours,start,end,tokens,rate,amount</c>; an absent region or tokens is empty; instants are
/// 100 ns ticks since the Unix epoch, or ISO if finer). PostgreSQL stores event data as jsonb: it parses an array of
/// arrays node by node (about 2.4 µs per record measured on the reference machine, the largest per-record cost of the
/// append after the claim), and prints it back for the daemon, while one string is a single scan each way. Ids,
/// chips and regions match the ledger's id rule, so they never hold a separator; a batch with any field that would
/// (one stored before the rule, say) is written as arrays, as before. Arrays and objects, the earlier layouts, still read.
/// A batch whose instants are whole seconds is written in the compact variant of this layout instead (<see cref="Compact"/>,
/// marked by a leading <c>~</c>), about a third of the bytes.
/// </summary>
public sealed partial class PackedRecordsJson : JsonConverter<IReadOnlyList<RecordedUsage>>
{
    private static readonly RecordedUsageJson Single = new();

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<RecordedUsage> value, JsonSerializerOptions options)
    {
        if (!value.All(r => Packable(r.UsageId) && Packable(r.Chip) && (r.Region is null || Packable(r.Region))))
        {
            writer.WriteStartArray();
            foreach (var record in value)
            {
                Single.Write(writer, record, options);
            }

            writer.WriteEndArray();
            return;
        }

        // One scratch buffer per thread, reused: a batch's text is ~100 KB, which a new buffer would take from the
        // large-object heap on every event (a gen-2 collection every few hundred batches in bench/ingest.sh).
        var text = Scratch ??= new ArrayBufferWriter<byte>(256 * 1024);
        text.ResetWrittenCount();
        if (!Compact.TryWrite(text, value))
        {
            text.ResetWrittenCount();
            WritePlain(text, value);
        }

        writer.WriteStringValue(text.WrittenSpan);
        if (text.Capacity > MaxScratch)
        {
            Scratch = null;
        }
    }

    /// <summary>The first packed layout: every field of every record in full.</summary>
    private static void WritePlain(ArrayBufferWriter<byte> text, IReadOnlyList<RecordedUsage> value)
    {
        for (var i = 0; i < value.Count; i++)
        {
            var r = value[i];
            if (i > 0)
            {
                Put(text, ";"u8);
            }

            Put(text, r.UsageId);
            Put(text, ","u8);
            Put(text, r.Chip);
            Put(text, ","u8);
            Put(text, r.Region ?? "");
            Put(text, ","u8);
            Number(text, r.ChipHours);
            Put(text, ","u8);
            Instant(text, r.Start);
            Put(text, ","u8);
            Instant(text, r.End);
            Tail(text, r);
        }
    }

    /// <summary>The last fields of a record, alike in both packed layouts: <c>,tokens,rate,amount</c>.</summary>
    private static void Tail(ArrayBufferWriter<byte> text, RecordedUsage r)
    {
        Put(text, ","u8);
        if (r.Tokens is { } tokens)
        {
            Number(text, tokens);
        }

        Put(text, ","u8);
        Number(text, r.Rate);
        Put(text, ","u8);
        Number(text, r.Amount);
    }

    /// <summary>The last fields of a record, alike in both packed layouts, read (what <see cref="Tail"/> wrote), and the record's end checked.</summary>
    private static (long? Tokens, int Rate, decimal Amount) ReadTail(ref Fields fields)
    {
        var tokensText = fields.Next();
        long? tokens = tokensText.IsEmpty ? null : Long(tokensText);
        var rate = checked((int)Long(fields.Next()));
        var amount = Decimal(fields.Next());
        fields.End();
        return (tokens, rate, amount);
    }

    /// <summary>A buffer grown past this by a very large batch is dropped after use rather than kept by the thread.</summary>
    private const int MaxScratch = 1024 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? Scratch;

    public override IReadOnlyList<RecordedUsage> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            var records = new List<RecordedUsage>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                records.Add(Single.Read(ref reader, typeof(RecordedUsage), options));
            }

            return records;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("the records of a usage batch are a string or an array");
        }

        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            return Unpack(reader.ValueSpan, Starts.All);
        }

        var rented = ArrayPool<byte>.Shared.Rent(checked((int)(reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length)));
        try
        {
            return Unpack(rented.AsSpan(0, reader.CopyString(rented)), Starts.All);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The records of a stored batch whose start is in [<paramref name="from"/>, <paramref name="before"/>), from the
    /// text of its records value (the JSON string unescaped, as <c>data ->> 'records'</c> gives it). Every other record
    /// is scanned to its start and no further, so an instant's boundary day costs a scan of the batches that span it,
    /// not their decoding. Null when the value is in an array layout (it starts with <c>[</c>): read such a batch whole.
    /// Matches <see cref="LineageReader.RecordPicker"/>.
    /// </summary>
    public static IReadOnlyList<RecordedUsage>? Pick(ReadOnlySpan<byte> records, Instant from, Instant before) =>
        !records.IsEmpty && records[0] == (byte)'[' ? null : Unpack(records, new Starts(from, before));

    /// <summary>Which records a read decodes: those whose start is in [From, Before).</summary>
    private readonly record struct Starts(Instant From, Instant Before)
    {
        public static readonly Starts All = new(NodaTime.Instant.MinValue, NodaTime.Instant.MaxValue);

        public bool IsAll => this == All;

        // Instant.MaxValue is itself a valid start, so the whole range is told apart rather than compared.
        public bool Hold(Instant start) => IsAll || (start >= From && start < Before);

        /// <summary>
        /// The window as whole seconds from <paramref name="baseSeconds"/>, [low, high): a start of whole seconds is in
        /// [From, Before) exactly when its offset is in it. Both bounds are rounded up to the second.
        /// </summary>
        public (long Low, long High) Offsets(long baseSeconds) => IsAll
            ? (long.MinValue, long.MaxValue)
            : (From == NodaTime.Instant.MinValue ? long.MinValue : CeilingSeconds(From) - baseSeconds, CeilingSeconds(Before) - baseSeconds);

        private static long CeilingSeconds(Instant instant)
        {
            var seconds = instant.ToUnixTimeSeconds();
            return NodaTime.Instant.FromUnixTimeSeconds(seconds) < instant ? seconds + 1 : seconds;
        }
    }

    private static List<RecordedUsage> Unpack(ReadOnlySpan<byte> text, Starts starts)
    {
        if (text.IsEmpty)
        {
            return [];
        }

        if (text[0] == Compact.Mark)
        {
            return Compact.Read(text, starts);
        }

        var records = new List<RecordedUsage>(starts.IsAll ? text.Count((byte)';') + 1 : 16);

        // A batch repeats a few chips and regions: each is decoded once and its string shared by every record that has it
        // (so the folds after this compare them by reference).
        var chips = new List<string>(4);
        var regions = new List<string>(4);
        foreach (var range in text.Split((byte)';'))
        {
            var fields = new Fields(text[range]);
            var idText = fields.Next();
            var chipText = fields.Next();
            var regionText = fields.Next();
            var hoursText = fields.Next();
            var start = Instant(fields.Next());
            if (!starts.Hold(start))
            {
                continue;
            }

            var usageId = Encoding.UTF8.GetString(idText);
            var chip = Reuse(chipText, chips);
            var region = regionText.IsEmpty ? null : Reuse(regionText, regions);
            var hours = Decimal(hoursText);
            var end = Instant(fields.Next());
            var (tokens, rate, amount) = ReadTail(ref fields);
            records.Add(new RecordedUsage(usageId, chip, region, hours, start, end, tokens, rate, amount));
        }

        return records;
    }

    /// <summary>Every character the id rule allows is a letter, a digit or one of <c>. _ : -</c>: none separates.</summary>
    private static bool Packable(string value) => value.Length > 0 && !value.AsSpan().ContainsAnyExcept(ComputeLedger.Ledger.Limits.IdCharacters);

    /// <summary>The string of these bytes among the batch's values so far, else a new one, kept while the batch has few.</summary>
    private static string Reuse(ReadOnlySpan<byte> utf8, List<string> seen)
    {
        foreach (var value in seen)
        {
            if (Ascii.Equals(utf8, value))
            {
                return value;
            }
        }

        var decoded = Encoding.UTF8.GetString(utf8);
        if (seen.Count < 16)
        {
            seen.Add(decoded);
        }

        return decoded;
    }

    private static void Put(ArrayBufferWriter<byte> text, ReadOnlySpan<byte> bytes) => text.Write(bytes);

    private static void Put(ArrayBufferWriter<byte> text, ReadOnlySpan<char> ascii) =>
        text.Advance(Encoding.ASCII.GetBytes(ascii, text.GetSpan(ascii.Length)));

    private static void Number<T>(ArrayBufferWriter<byte> text, T value)
        where T : IUtf8SpanFormattable
    {
        if (!value.TryFormat(text.GetSpan(32), out var written, default, System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"number {value} does not fit 32 bytes");
        }

        text.Advance(written);
    }

    private static void Instant(ArrayBufferWriter<byte> text, Instant instant)
    {
        var ticks = instant.ToUnixTimeTicks();
        if (NodaTime.Instant.FromUnixTimeTicks(ticks) == instant)
        {
            Number(text, ticks);
        }
        else
        {
            Put(text, InstantPattern.ExtendedIso.Format(instant));
        }
    }

    private static Instant Instant(ReadOnlySpan<byte> field) => field.Contains((byte)'T')
        ? InstantPattern.ExtendedIso.Parse(Encoding.ASCII.GetString(field)).GetValueOrThrow()
        : NodaTime.Instant.FromUnixTimeTicks(Long(field));

    private static decimal Decimal(ReadOnlySpan<byte> field) =>
        Utf8Parser.TryParse(field, out decimal value, out var used) && used == field.Length ? value : throw Malformed(field);

    private static long Long(ReadOnlySpan<byte> field) =>
        Utf8Parser.TryParse(field, out long value, out var used) && used == field.Length ? value : throw Malformed(field);

    private static JsonException Malformed(ReadOnlySpan<byte> field) =>
        new($"a packed usage record has a malformed number: '{Encoding.UTF8.GetString(field)}'");

    /// <summary>The comma-separated fields of one packed record, in order.</summary>
    private ref struct Fields(ReadOnlySpan<byte> record, int count = 9)
    {
        private ReadOnlySpan<byte> _rest = record;
        private bool _done;

        public ReadOnlySpan<byte> Next()
        {
            if (_done)
            {
                throw new JsonException($"a packed usage record has {count} fields");
            }

            var comma = _rest.IndexOf((byte)',');
            if (comma < 0)
            {
                _done = true;
                return _rest;
            }

            var field = _rest[..comma];
            _rest = _rest[(comma + 1)..];
            return field;
        }

        public readonly void End()
        {
            if (!_done)
            {
                throw new JsonException($"a packed usage record has {count} fields");
            }
        }
    }
}
