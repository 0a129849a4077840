using System.Buffers.Binary;
using System.Text;

namespace ComputeLedger.Host.Usage;

/// <summary>
/// Rows of PostgreSQL's binary COPY format, written straight into a byte buffer: the stream header, per row a field
/// count and each field as a big-endian length and its bytes, and the trailer. Only the types a claim has: text,
/// numeric (from a decimal) and timestamptz (from an instant, truncated to the microsecond). A value's binary form is
/// what PostgreSQL's receive function reads, so the server parses no text (in the claim's text COPY, reading the
/// timestamp and the two numbers was most of a row's parsing).
/// </summary>
public ref struct BinaryCopyRow(Span<byte> buffer)
{
    /// <summary>"PGCOPY\n\377\r\n\0", no flags, no header extension.</summary>
    public static ReadOnlySpan<byte> Header => [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>A field count of -1 ends the stream.</summary>
    public static ReadOnlySpan<byte> Trailer => [0xFF, 0xFF];

    /// <summary>The most a row of <paramref name="fields"/> fields takes when its texts total <paramref name="textChars"/> characters.</summary>
    public static int MaxLength(int fields, int textChars) => 2 + (fields * (4 + MaxNumericBytes)) + (textChars * 3);

    /// <summary>A numeric of a decimal: 4 header words and at most 9 base-10000 digits (decimal has 29 significant digits).</summary>
    private const int MaxNumericBytes = 8 + (9 * 2);

    /// <summary>Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01T00:00:00Z.</summary>
    private const long PostgresEpochMicros = 946_684_800_000_000;

    private readonly Span<byte> _buffer = buffer;

    public int Length { get; private set; }

    public void Fields(short count)
    {
        BinaryPrimitives.WriteInt16BigEndian(_buffer[Length..], count);
        Length += 2;
    }

    public void Text(string value)
    {
        var written = Encoding.UTF8.GetBytes(value, _buffer[(Length + 4)..]);
        BinaryPrimitives.WriteInt32BigEndian(_buffer[Length..], written);
        Length += 4 + written;
    }

    public void TimestampTz(Instant instant)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer[Length..], 8);
        BinaryPrimitives.WriteInt64BigEndian(_buffer[(Length + 4)..], Math.DivRem(instant.ToUnixTimeTicks(), 10, out var rest) - (rest < 0 ? 1 : 0) - PostgresEpochMicros);
        Length += 12;
    }

    /// <summary>
    /// numeric_send's layout: digit count, weight (of the first digit, in powers of 10,000), sign, display scale, then the
    /// base-10,000 digits, the fractional ones aligned to the decimal point. The display scale is the decimal's scale,
    /// so 2.50 is stored as 2.50, as its text was.
    /// </summary>
    public void Numeric(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var scale = (bits[3] >> 16) & 0xFF;
        var fractionGroups = (scale + 3) / 4;
        // The unscaled integer, times 10^0-3 so its fractional digits fill whole groups; at most 2^96 × 1000 < 2^106.
        var units = (((UInt128)(uint)bits[2] << 64) | ((UInt128)(uint)bits[1] << 32) | (uint)bits[0]) * Pow10[(fractionGroups * 4) - scale];

        Span<short> groups = stackalloc short[9];
        var count = 0;
        for (; units != 0; count++)
        {
            (units, var group) = UInt128.DivRem(units, 10_000);
            groups[count] = (short)group;
        }

        var lowest = 0;
        while (lowest < count && groups[lowest] == 0)
        {
            lowest++;
        }

        var digits = count - lowest;
        var field = _buffer[(Length + 4)..];
        BinaryPrimitives.WriteInt16BigEndian(field, (short)digits);
        BinaryPrimitives.WriteInt16BigEndian(field[2..], (short)(digits == 0 ? 0 : count - 1 - fractionGroups));
        BinaryPrimitives.WriteInt16BigEndian(field[4..], (short)(digits > 0 && bits[3] < 0 ? 0x4000 : 0));
        BinaryPrimitives.WriteInt16BigEndian(field[6..], (short)scale);
        for (var i = 0; i < digits; i++)
        {
            BinaryPrimitives.WriteInt16BigEndian(field[(8 + (i * 2))..], groups[count - 1 - i]);
        }

        BinaryPrimitives.WriteInt32BigEndian(_buffer[Length..], 8 + (digits * 2));
        Length += 4 + 8 + (digits * 2);
    }

    private static ReadOnlySpan<uint> Pow10 => [1, 10, 100, 1000];
}
