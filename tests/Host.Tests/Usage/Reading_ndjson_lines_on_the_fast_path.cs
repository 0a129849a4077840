// Over 200 lines: the generators of well-formed and of mutated lines are the test's whole claim and sit beside the
// properties that use them, so a reader sees which shapes the equivalence was checked on.
using System.Globalization;
using System.Text;
using System.Text.Json;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Usage.Ingesting;
using CsCheck;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>
/// The NDJSON fast path against the serializer it stands in for: whatever line it reads, it reads as
/// <c>JsonSerializer.Deserialize&lt;UsageRecordBody&gt;(line, Json.Options)</c> does; and it does read the common shape,
/// so a fast path that quietly declined everything would fail here. Pure: no database, no host.
/// </summary>
public class Reading_ndjson_lines_on_the_fast_path
{
    private static readonly string[] Names = ["usageId", "commitmentId", "provider", "chip", "region", "chipHours", "start", "end", "tokens"];

    private static readonly Gen<string> Strings = Gen.OneOf(Gen.OneOf(
        "\"amazon-anthropic\"", "\"AWS\"", "\"Trainium2\"", "\"us-east-1\"", "\"\"", "\"é ü 中 😀\"", "\"with space\"", "null"),
        Gen.Int[0, 1_000_000].Select(i => $"\"bench-{i}\""));

    private static readonly Gen<string> Hours = Gen.OneOf(Gen.OneOf(
        "null", "0", "-0", "1.5", "-1.5", "1.50", "1e2", "1E-3", "2.5e+1", "0.0000000000000000000000000001", "79228162514264337593543950335"),
        Gen.Int[0, 100_000].Select(i => (i / 100m).ToString(CultureInfo.InvariantCulture)));

    // Numbers past decimal's range or precision: whichever way the reader takes them, both paths must take them alike.
    private static readonly Gen<string> EdgeHours = Gen.OneOf(
        "79228162514264337593543950336", "-79228162514264337593543950336", "1e400", "1e-400", "0.00000000000000000000000000001",
        "123456789012345678901234567890.123", "3.14159265358979323846264338327950288");

    private static readonly Gen<string> Tokens = Gen.OneOf(Gen.OneOf("null", "0", "-0", "-1", "9223372036854775807", "-9223372036854775808"),
        Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture)));

    private static readonly Gen<string> EdgeTokens = Gen.OneOf("9223372036854775808", "-9223372036854775809", "1e2", "1.0", "1E0", "-0.0");

    // Every component over its valid range and one step past it at both ends, so calendar and clock bounds get probed.
    private static readonly Gen<string> Instants = Gen.Select(
        Gen.OneOf(Gen.OneOf(0, 1, 4, 100, 1900, 2000, 2024, 2025, 9999), Gen.Int[0, 9999]),
        Gen.Int[0, 13], Gen.Int[0, 32], Gen.Int[0, 24], Gen.Int[0, 60], Gen.Int[0, 60],
        (y, mo, d, h, mi, s) => Stamp(y, mo, d, h, mi, s));

    // Month ends included (the 31st, 30th, 29 February of leap years), with DateTime's calendar as an independent oracle.
    private static readonly Gen<string> ValidInstants = Gen.Select(Gen.Int[1, 9999], Gen.Int[1, 12], Gen.Int[1, 31], Gen.Int[0, 23], Gen.Int[0, 59], Gen.Int[0, 59],
        (y, mo, d, h, mi, s) => Stamp(y, mo, Math.Min(d, DateTime.DaysInMonth(y, mo)), h, mi, s));

    private static readonly Gen<string> OddInstants = Gen.OneOf(
        "\"2025-01-01T00:00:00.5Z\"", "\"2025-01-01T00:00:00.000000001Z\"", "\"2025-01-01T00:00:00+01:00\"", "\"2025-01-01T00:00:00-00:00\"",
        "\"2025-01-01t00:00:00z\"", "\"2025-01-01 00:00:00Z\"", "\"2025-1-01T00:00:00Z\"", "\"+2025-01-01T00:00:00Z\"", "\"-0001-01-01T00:00:00Z\"",
        "\"2025-01-01T00:00:00\\u005A\"", "\"2025-01-01T00:00:00\"", "\"2025-01-01\"", "\"2025-02-30T00:00:00Z\"", "\"2024-02-29T23:59:59Z\"",
        "\"2025-02-29T00:00:00Z\"", "\"1900-02-29T00:00:00Z\"", "\"2000-02-29T00:00:00Z\"", "\"2025-01-01T24:00:00Z\"", "\"2025-0a-01T00:00:00Z\"",
        "\"\"", "1735689600", "null");

    // Values a field's serializer refuses or reads differently from a JSON number or plain string.
    private static readonly Gen<string> OddValues = Gen.OneOf(
        "\"a\\u0041\"", "\"tab\\t\"", "\"q\\\"\"", "\"\\/\"", "\"1.5\"", "\"5\"", "\"abc\"", "01", "-01", "1.", ".5", "+1", "1e", "-",
        "true", "false", "{}", "[]", "[1]", "{\"a\":1}", Nest(10), Nest(70), "NaN", "Infinity");

    [Fact]
    public void The_benchmarks_line_takes_the_fast_path_with_every_field()
    {
        var line = """{"usageId":"bench-1-7","commitmentId":"amazon-anthropic","provider":"AWS","chip":"Inferentia2","region":"us-east-1","chipHours":1.7,"start":"2025-01-01T07:00:00Z","end":"2025-01-01T08:00:00Z","tokens":1000007}"""u8;

        UsageRecordFastReader.TryRead(line, out var record).ShouldBeTrue();

        record.ShouldBe(new UsageRecordBody("bench-1-7", "amazon-anthropic", "AWS", "Inferentia2", "us-east-1", 1.7m,
            Instant.FromUtc(2025, 1, 1, 7, 0), Instant.FromUtc(2025, 1, 1, 8, 0), 1_000_007));
        record.ShouldBe(JsonSerializer.Deserialize<UsageRecordBody>(line, Json.Options));
    }

    // Well-formed lines: any values of the right kinds, fields missing or null, in any order, spaced any way.
    private static readonly Gen<string> WellFormedLines = Gen.Select(
        Gen.Select(Strings, Strings, Strings, Strings, Strings, Hours, ValidInstants, ValidInstants, (a, b, c, d, e, f, g, h) => new[] { a, b, c, d, e, f, g, h }),
        Tokens, Gen.Bool.Array[9], Gen.Int[0, 100], Gen.OneOf("", " ", "\t", "\r", " \r"), Gen.OneOf("", " ", " \t"),
        (values, tokens, nulls, seed, trailing, space) =>
        {
            var all = values.Append(tokens).Select((v, i) => (Names[i], nulls[i] ? "null" : v)).ToList();
            // Missing fields, any order: the serializer's defaults for both are what the fast path gives.
            Shuffle(all, seed);
            return Line(all.Take(seed % 10 == 0 ? seed % 9 : 9), space) + trailing;
        });

    [Fact]
    public void Every_well_formed_line_takes_the_fast_path_and_reads_as_the_serializer_reads_it()
    {
        WellFormedLines.Sample(line =>
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            UsageRecordFastReader.TryRead(bytes, out var fast).ShouldBeTrue(line);
            SameAsSerializer(bytes, fast, line);
        }, iter: 20_000);
    }

    [Fact]
    public void A_batch_read_with_its_repeated_strings_reused_reads_each_line_as_it_reads_alone()
    {
        // The reader hands a line the string of the last line when a field's bytes are the same (commitment, provider,
        // chip, region repeat in a batch); the generator's few fixed values make that frequent, non-ASCII ones included.
        var reused = 0;
        WellFormedLines.Array[1, 40].Sample(batch =>
        {
            var repeats = new UsageRecordFastReader.Repeats();
            UsageRecordBody? previous = null;
            foreach (var line in batch)
            {
                var bytes = Encoding.UTF8.GetBytes(line);
                UsageRecordFastReader.TryRead(bytes, out var alone).ShouldBeTrue(line);
                UsageRecordFastReader.TryRead(bytes, out var withRepeats, repeats).ShouldBeTrue(line);
                withRepeats.ShouldBe(alone, line);
                if (previous?.Chip is { } chip && ReferenceEquals(chip, withRepeats.Chip))
                {
                    Interlocked.Increment(ref reused);
                }

                previous = withRepeats;
            }
        }, iter: 2_000);

        reused.ShouldBeGreaterThan(100);
    }

    [Fact]
    public void Any_line_the_fast_path_reads_it_reads_as_the_serializer_reads_it_and_it_declines_the_rest()
    {
        int read = 0, declined = 0;
        var value = Gen.Int[0, 8].SelectMany(field => Gen.Frequency(
            (24, field switch { < 5 => Strings, 5 => Hours, 8 => Tokens, _ => Instants }),
            (2, field switch { 5 => EdgeHours, 8 => EdgeTokens, 6 or 7 => OddInstants, _ => Gen.Const("null") }),
            (2, OddValues)).Select(v => (Field: field, Value: v)));
        var name = Gen.Select(Gen.Int[0, 8], Gen.Int[0, 9], (field, spelling) => spelling switch
        {
            0 => char.ToUpperInvariant(Names[field][0]) + Names[field][1..],
            1 => Names[field].ToUpperInvariant(),
            2 => "\\u00" + ((int)Names[field][0]).ToString("x2", CultureInfo.InvariantCulture) + Names[field][1..],
            3 => "extra",
            _ => Names[field],
        });
        var prefixes = Gen.Frequency((12, Gen.OneOf("", " ")), (3, Gen.OneOf("\uFEFF", "/*c*/", "[", "null ")));
        var suffixes = Gen.Frequency((12, Gen.OneOf("", " \r")), (3, Gen.OneOf(" x", "}", " // c", "/*c*/", ",", " {}", "]")));
        var lines = Gen.Select(value.Array[0, 12], name.Array[12], Gen.Int[0, 100], prefixes, suffixes, Gen.Int[0, 19],
            (values, names, seed, prefix, suffix, shape) =>
            {
                // Duplicates come from the generator picking a field twice; odd names from the spellings above.
                var properties = values.Select((v, i) => (seed % 4 == 0 ? names[i] : Names[v.Field], v.Value)).ToList();
                var line = prefix + Line(properties, seed % 7 == 0 ? "\t" : "") + suffix;
                return shape switch { 0 => line.Replace("}", ",}", StringComparison.Ordinal), 1 => "null", 2 => $"[{line}]", _ => line };
            });

        lines.Sample(line =>
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            if (UsageRecordFastReader.TryRead(bytes, out var fast))
            {
                Interlocked.Increment(ref read);
                SameAsSerializer(bytes, fast, line);
            }
            else
            {
                Interlocked.Increment(ref declined);
            }
        }, iter: 50_000);

        // Both outcomes happen, so the property above was checked on lines the fast path really read.
        read.ShouldBeGreaterThan(1_000);
        declined.ShouldBeGreaterThan(1_000);
    }

    [Theory]
    [InlineData("""{"usageId":"u", /* a comment */ "chip":"Trainium2"}""")]
    [InlineData("""{"usageId":"u"} // a comment""")]
    [InlineData("""{"usageId":"u","chip":"Trainium2",}""")]
    public void Comments_and_trailing_commas_are_errors_under_the_ledgers_options_and_the_fast_path_leaves_them_to_the_serializer(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);

        Should.Throw<JsonException>(() => JsonSerializer.Deserialize<UsageRecordBody>(bytes, Json.Options));
        UsageRecordFastReader.TryRead(bytes, out _).ShouldBeFalse();
    }

    [Theory]
    [InlineData("""{"usageId":"u","chipHours":"1.5"}""")]
    [InlineData("""{"usageId":"u","tokens":"5"}""")]
    [InlineData("""{"usageId":"u","start":"2025-01-01T00:00:00.5Z"}""")]
    [InlineData("""{"usageId":"u","start":"2025-01-01T00:00:00+01:00"}""")]
    [InlineData("""{"usageId":"u","start":"2025-02-30T00:00:00Z"}""")]
    [InlineData("""{"usageId":"u","start":"0000-01-01T00:00:00Z"}""")]
    [InlineData("""{"UsageId":"u"}""")]
    [InlineData("""{"usageId":"u","usageId":"v"}""")]
    [InlineData("""{"usageId":"u","note":"x"}""")]
    [InlineData("""{"usageId":"\u0041"}""")]
    [InlineData("""{"usageId":"u"} x""")]
    [InlineData("""{"usageId":"u","tokens":1e2}""")]
    [InlineData("""{"usageId":"u","chipHours":1e400}""")]
    [InlineData("null")]
    public void Shapes_it_leaves_to_the_serializer(string line) =>
        UsageRecordFastReader.TryRead(Encoding.UTF8.GetBytes(line), out _).ShouldBeFalse();

    [Fact]
    public void A_string_of_invalid_UTF8_is_declined_rather_than_thrown()
    {
        // NDJSON lines are checked for UTF-8 before either path reads them; the fast path still declines on its own.
        byte[] line = [.. "{\"usageId\":\""u8, 0xff, .. "\"}"u8];

        Should.Throw<JsonException>(() => JsonSerializer.Deserialize<UsageRecordBody>(line, Json.Options));
        UsageRecordFastReader.TryRead(line, out _).ShouldBeFalse();
    }

    private static void SameAsSerializer(byte[] line, UsageRecordBody fast, string text)
    {
        var slow = Should.NotThrow(() => JsonSerializer.Deserialize<UsageRecordBody>(line, Json.Options), text);
        fast.ShouldBe(slow, text);
        // Equal decimals may differ in scale (1.5 and 1.50); the stored figure keeps the scale, so it must match too.
        fast.ChipHours?.ToString(CultureInfo.InvariantCulture).ShouldBe(slow!.ChipHours?.ToString(CultureInfo.InvariantCulture), text);
    }

    private static string Stamp(int y, int mo, int d, int h, int mi, int s) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{y:D4}-{mo:D2}-{d:D2}T{h:D2}:{mi:D2}:{s:D2}Z\"");

    private static string Line(IEnumerable<(string Name, string Value)> properties, string space) =>
        "{" + space + string.Join("," + space, properties.Select(p => $"\"{p.Name}\"{space}:{space}{p.Value}")) + space + "}";

    private static string Nest(int depth) => new string('[', depth) + new string(']', depth);

    private static void Shuffle<T>(List<T> items, int seed)
    {
        var random = new Random(seed);
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
