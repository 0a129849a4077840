using System.Globalization;
using System.Text;

namespace ComputeLedger.Host.Usage.Explaining;

/// <summary>
/// Where a lineage page ended: the last entry's (sequence, index), and the sequence the first page stopped at
/// (<see cref="UpTo"/>), so later pages list the same history even while new usage is recorded. Opaque to clients
/// (base64url); only its own <see cref="ToString"/> output parses.
/// </summary>
public sealed record LineageCursor(long UpTo, long Sequence, int Index)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    private const string Version = "l1";

    public override string ToString() =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Version}.{UpTo}.{Sequence}.{Index}")))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryParse(string text, out LineageCursor? cursor)
    {
        cursor = null;
        if (text.Length is 0 or > 100 || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            return false;
        }

        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - (base64.Length % 4)) % 4);
        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, bytes, out var written))
        {
            return false;
        }

        var parts = Encoding.ASCII.GetString(bytes, 0, written).Split('.');
        if (parts.Length != 4 || parts[0] != Version
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var upTo)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            || !int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            || sequence > upTo)
        {
            return false;
        }

        cursor = new LineageCursor(upTo, sequence, index);
        return true;
    }

    /// <summary>A page size from 1 to <see cref="MaxLimit"/>; absent (or blank, like the time parameters) means <see cref="DefaultLimit"/>.</summary>
    public static bool TryParseLimit(string? text, out int limit)
    {
        limit = DefaultLimit;
        return string.IsNullOrWhiteSpace(text) || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxLimit);
    }
}
