using System.Globalization;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Usage;
using CsCheck;
using NodaTime;
using Npgsql;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>
/// The claim's binary COPY rows, read back by PostgreSQL itself: every decimal (any scale, sign, magnitude up to
/// decimal's range) arrives as the same number with the same display scale its text form had, every instant as the
/// same microsecond (truncated), every text unchanged, non-ASCII included.
/// </summary>
public class Writing_binary_copy_rows(LedgerFixture fixture) : LedgerTest(fixture)
{
    private static readonly Gen<decimal> Decimals = Gen.OneOf(
        Gen.Decimal,
        // Money- and hours-like values: up to 10^12 units at any scale, built from their parts so the scale is exact.
        Gen.Select(Gen.Long[-999_999_999_999, 999_999_999_999], Gen.Byte[0, 28], (units, scale) =>
            new decimal((int)(uint)(ulong)Math.Abs(units), (int)(uint)((ulong)Math.Abs(units) >> 32), 0, units < 0, scale)),
        Gen.OneOf(Gen.Const(0m), Gen.Const(-0.00m), Gen.Const(0.0001m), Gen.Const(10000m), Gen.Const(9999.9999m), Gen.Const(decimal.MaxValue),
            Gen.Const(decimal.MinValue), Gen.Const(1e-28m), Gen.Const(8.75m), Gen.Const(2.50m), Gen.Const(100_000_000.000000m)));

    private static readonly Gen<Instant> Instants = Gen.Long[Instant.FromUtc(2000, 1, 1, 0, 0).ToUnixTimeTicks(), Instant.FromUtc(2101, 1, 1, 0, 0).ToUnixTimeTicks()]
        .Select(Instant.FromUnixTimeTicks);

    private static readonly Gen<string> Texts = Gen.OneOf(Gen.String, Gen.Const(""), Gen.Const("usage:amazon-anthropic:0f8fad5bd9cb469fa16570867728950e"),
        Gen.Const("é ü 中 😀"), Gen.Const("tab\tand\nline\\break"));

    [Fact]
    public async Task Rows_arrive_as_the_values_they_were_written_from()
    {
        var ct = TestContext.Current.CancellationToken;
        var rows = Gen.Select(Texts, Decimals, Decimals, Instants).Array[200].Single().Where(r => !r.Item1.Contains('\0')).ToList();

        await using var connection = new NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync(ct);
        await using (var create = new NpgsqlCommand("create temporary table copied (i text, t text, a numeric, b numeric, at timestamptz)", connection))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        var buffer = new byte[rows.Sum(r => BinaryCopyRow.MaxLength(5, r.Item1.Length)) + 64];
        BinaryCopyRow.Header.CopyTo(buffer);
        var used = BinaryCopyRow.Header.Length;
        for (var i = 0; i < rows.Count; i++)
        {
            used += Write(buffer.AsSpan(used), i, rows[i]);
        }

        BinaryCopyRow.Trailer.CopyTo(buffer.AsSpan(used));
        await using (var copy = await connection.BeginRawBinaryCopyAsync("copy copied from stdin (format binary)", ct))
        {
            await copy.WriteAsync(buffer.AsMemory(0, used + 2), ct);
        }

        await using var read = new NpgsqlCommand("select i, t, a, a::text, b, b::text, at from copied order by i::int", connection);
        await using var reader = await read.ExecuteReaderAsync(ct);
        var count = 0;
        while (await reader.ReadAsync(ct))
        {
            var (text, a, b, at) = rows[int.Parse(reader.GetString(0), CultureInfo.InvariantCulture)];
            reader.GetString(1).ShouldBe(text);
            reader.GetDecimal(2).ShouldBe(a);
            reader.GetString(3).ShouldBe(Text(a), $"{a}");
            reader.GetDecimal(4).ShouldBe(b);
            reader.GetString(5).ShouldBe(Text(b), $"{b}");
            var micros = Math.DivRem(at.ToUnixTimeTicks(), 10, out var rest) - (rest < 0 ? 1 : 0);
            Instant.FromDateTimeUtc(reader.GetDateTime(6)).ShouldBe(Instant.FromUnixTimeTicks(micros * 10), at.ToString());
            count++;
        }

        count.ShouldBe(rows.Count);
    }

    // PostgreSQL prints a numeric with its display scale and no sign on zero, as decimal does but for "-0".
    private static string Text(decimal value) => (value == 0 ? Math.Abs(value) : value).ToString(CultureInfo.InvariantCulture);

    private static int Write(Span<byte> buffer, int index, (string Text, decimal A, decimal B, Instant At) row)
    {
        var written = new BinaryCopyRow(buffer);
        written.Fields(5);
        written.Text(index.ToString(CultureInfo.InvariantCulture));
        written.Text(row.Text);
        written.Numeric(row.A);
        written.Numeric(row.B);
        written.TimestampTz(row.At);
        return written.Length;
    }
}
