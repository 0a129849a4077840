using System.Buffers;
using System.Text;
using System.Text.Json;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;

namespace ComputeLedger.Host.Usage;

public sealed partial class PackedRecordsJson
{
    /// <summary>
    /// The compact packed layout, written whenever a batch's instants are whole seconds (a meter's hours and minutes
    /// always are) and it names few chips and regions: <c>~chips|regions|base|records</c>. The chips and the regions the
    /// batch names are listed once, comma-separated, in order of first use; <c>base</c> is the first record's start in
    /// seconds since the Unix epoch; records are separated by <c>;</c>, each
    /// <c>shared,rest,chip,region,chipHours,start,seconds,tokens,rate,amount</c>:
    /// <list type="bullet">
    /// <item>the usageId is the first <c>shared</c> characters of the batch's first usageId followed by <c>rest</c> (a
    /// meter numbers its records, so a batch's ids mostly differ in their last few characters);</item>
    /// <item>chip and region are positions in the lists (an absent region is empty);</item>
    /// <item>start is in seconds from <c>base</c>, and <c>seconds</c> is the window's length.</item>
    /// </list>
    /// A record of <c>bench/ingest.sh</c> takes ~35 bytes instead of ~97 in the first layout: PostgreSQL parses every
    /// byte as jsonb in the ingest transaction, compresses and logs it, and prints it back for the daemon. Any other
    /// batch keeps the first layout. <c>~</c> is outside the id rule, so no batch of the first layout starts with it.
    /// </summary>
    private static class Compact
    {
        public const byte Mark = (byte)'~';

        /// <summary>More distinct chips or regions than this in one batch, and the first layout is used (each is found by a scan).</summary>
        private const int MaxNames = 32;

        public static bool TryWrite(ArrayBufferWriter<byte> text, IReadOnlyList<RecordedUsage> records)
        {
            if (records.Count == 0)
            {
                return false;
            }

            var chips = new List<string>(4);
            var regions = new List<string>(4);
            foreach (var r in records)
            {
                if (!WholeSeconds(r.Start) || !WholeSeconds(r.End) || DistinctNames.IndexOf(chips, r.Chip) > MaxNames
                    || (r.Region is not null && DistinctNames.IndexOf(regions, r.Region) > MaxNames))
                {
                    return false;
                }
            }

            var first = records[0].UsageId;
            var baseSeconds = records[0].Start.ToUnixTimeSeconds();
            Put(text, "~"u8);
            Names(text, chips);
            Put(text, "|"u8);
            Names(text, regions);
            Put(text, "|"u8);
            Number(text, baseSeconds);
            Put(text, "|"u8);
            for (var i = 0; i < records.Count; i++)
            {
                var r = records[i];
                if (i > 0)
                {
                    Put(text, ";"u8);
                }

                var shared = i == 0 ? 0 : r.UsageId.AsSpan().CommonPrefixLength(first);
                Number(text, shared);
                Put(text, ","u8);
                Put(text, r.UsageId.AsSpan(shared));
                Put(text, ","u8);
                Number(text, DistinctNames.IndexOf(chips, r.Chip));
                Put(text, ","u8);
                if (r.Region is not null)
                {
                    Number(text, DistinctNames.IndexOf(regions, r.Region));
                }

                Put(text, ","u8);
                Number(text, r.ChipHours);
                Put(text, ","u8);
                var start = r.Start.ToUnixTimeSeconds();
                Number(text, start - baseSeconds);
                Put(text, ","u8);
                Number(text, r.End.ToUnixTimeSeconds() - start);
                Tail(text, r);
            }

            return true;
        }

        /// <summary>The records whose start <paramref name="starts"/> holds; the others are scanned to their start only.</summary>
        public static List<RecordedUsage> Read(ReadOnlySpan<byte> text, Starts starts)
        {
            var header = text[1..];
            var chips = Names(Part(ref header));
            var regions = Names(Part(ref header));
            var baseSeconds = Long(Part(ref header));
            var body = header;
            var records = new List<RecordedUsage>(starts.IsAll ? body.Count((byte)';') + 1 : 16);
            var (low, high) = starts.Offsets(baseSeconds);
            string? first = null;
            Span<char> id = stackalloc char[256];
            for (var at = 0; at <= body.Length;)
            {
                var length = body[at..].IndexOf((byte)';');
                var record = length < 0 ? body[at..] : body.Slice(at, length);
                at = length < 0 ? body.Length + 1 : at + length + 1;

                // The first record's id is the base of every other's, so it is decoded whether it is picked or not. Any
                // other is skipped when its start (seconds from the base) is outside the window; one whose start cannot
                // be read that way is decoded, which says what is wrong with it.
                if (first is not null && !starts.IsAll && StartOffset(record) is { } offset && (offset < low || offset >= high))
                {
                    continue;
                }

                var fields = new Fields(record, 10);
                var sharedText = fields.Next();
                var rest = fields.Next();
                var chipText = fields.Next();
                var regionText = fields.Next();
                var hoursText = fields.Next();
                var start = Seconds(checked(baseSeconds + Long(fields.Next())));
                if (first is not null && !starts.Hold(start))
                {
                    continue;
                }

                var shared = checked((int)Long(sharedText));
                string usageId;
                if (first is null)
                {
                    usageId = shared == 0 ? Encoding.UTF8.GetString(rest) : throw new JsonException("the first record of a compact batch shares no characters");
                    first = usageId;
                    if (!starts.Hold(start))
                    {
                        continue;
                    }
                }
                else if (shared <= first.Length && shared + rest.Length <= id.Length && Ascii.IsValid(rest))
                {
                    first.AsSpan(0, shared).CopyTo(id);
                    Ascii.ToUtf16(rest, id[shared..], out var written);
                    usageId = new string(id[..(shared + written)]);
                }
                else
                {
                    throw new JsonException($"a compact usage record shares {shared} characters of '{first}' and adds {rest.Length}: not an id");
                }

                var chip = At(chips, chipText);
                var region = regionText.IsEmpty ? null : At(regions, regionText);
                var hours = Decimal(hoursText);
                var end = Seconds(checked(start.ToUnixTimeSeconds() + Long(fields.Next())));
                var (tokens, rate, amount) = ReadTail(ref fields);
                records.Add(new RecordedUsage(usageId, chip, region, hours, start, end, tokens, rate, amount));
            }

            return records;
        }

        /// <summary>
        /// A record's sixth field (its start, in seconds from the base) read by one pass over its first bytes, with no
        /// field split: what a pick costs for each record it skips. Null if that field is not a plain integer.
        /// </summary>
        private static long? StartOffset(ReadOnlySpan<byte> record)
        {
            var i = 0;
            for (var commas = 0; commas < 5; i++)
            {
                if (i == record.Length)
                {
                    return null;
                }

                if (record[i] == (byte)',')
                {
                    commas++;
                }
            }

            var negative = i < record.Length && record[i] == (byte)'-';
            i += negative ? 1 : 0;
            var (value, digits) = (0L, 0);
            for (; i < record.Length && record[i] != (byte)','; i++, digits++)
            {
                var digit = record[i] - (byte)'0';
                if ((uint)digit > 9 || digits == 18)
                {
                    return null;
                }

                value = (value * 10) + digit;
            }

            return digits == 0 ? null : negative ? -value : value;
        }

        private static bool WholeSeconds(Instant instant) =>
            instant.ToUnixTimeTicks() % TimeSpan.TicksPerSecond == 0 && NodaTime.Instant.FromUnixTimeTicks(instant.ToUnixTimeTicks()) == instant;

        private static Instant Seconds(long seconds) =>
            seconds >= NodaTime.Instant.MinValue.ToUnixTimeSeconds() && seconds <= NodaTime.Instant.MaxValue.ToUnixTimeSeconds()
                ? NodaTime.Instant.FromUnixTimeSeconds(seconds)
                : throw new JsonException($"a compact usage record's instant is {seconds} s from the epoch, outside the calendar");

        private static void Names(ArrayBufferWriter<byte> text, List<string> names)
        {
            for (var i = 0; i < names.Count; i++)
            {
                if (i > 0)
                {
                    Put(text, ","u8);
                }

                Put(text, names[i]);
            }
        }

        private static string[] Names(ReadOnlySpan<byte> list)
        {
            if (list.IsEmpty)
            {
                return [];
            }

            var names = new string[list.Count((byte)',') + 1];
            var i = 0;
            foreach (var range in list.Split((byte)','))
            {
                names[i++] = Encoding.UTF8.GetString(list[range]);
            }

            return names;
        }

        private static string At(string[] names, ReadOnlySpan<byte> index)
        {
            var i = Long(index);
            return i >= 0 && i < names.Length ? names[i] : throw new JsonException($"a compact usage record names entry {i} of a list of {names.Length}");
        }

        /// <summary>The header's next part, up to its <c>|</c>.</summary>
        private static ReadOnlySpan<byte> Part(ref ReadOnlySpan<byte> header)
        {
            var bar = header.IndexOf((byte)'|');
            if (bar < 0)
            {
                throw new JsonException("a compact usage batch's header has chips, regions and a base, each ended by '|'");
            }

            var part = header[..bar];
            header = header[(bar + 1)..];
            return part;
        }
    }
}
