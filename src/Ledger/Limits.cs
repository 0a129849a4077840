using System.Globalization;
using System.Text.RegularExpressions;

namespace ComputeLedger.Ledger;

/// <summary>
/// The bounds of every value the ledger accepts. Inside them no sum the ledger keeps can overflow and no string can
/// break storage; outside them a value is refused at the edge with the message these checks return. Each check
/// returns null when the value is fine, else what to fix in plain words (the field name is added by the caller).
/// </summary>
public static partial class Limits
{
    /// <summary>The largest magnitude of any amount of money: 10^15 (a quadrillion).</summary>
    public const decimal MaxMoney = 1_000_000_000_000_000m;

    /// <summary>Prices per chip-hour may be finer than the currency's minor unit, down to a millionth.</summary>
    public const int PriceDecimals = 6;

    public const decimal MaxChipHours = 1_000_000_000m;
    public const int ChipHoursDecimals = 6;
    public const long MaxTokens = 1_000_000_000_000_000;

    public const int MaxIdLength = 128;
    public const int MaxNameLength = 128;
    public const int MaxTextLength = 2_000;
    public const int MinSecretLength = 16;

    /// <summary>Milestones, tranches, chips of one commitment: a deal is read whole on every decision, so it stays small.</summary>
    public const int MaxListItems = 100;
    public const int MaxSecretLength = 256;

    public static readonly LocalDate FirstDate = new(2000, 1, 1);
    public static readonly LocalDate LastDate = new(2100, 12, 31);

    /// <summary>The first instant of <see cref="FirstDate"/>, UTC.</summary>
    public static readonly Instant FirstInstant = Instant.FromUtc(2000, 1, 1, 0, 0);

    /// <summary>The end (exclusive) of <see cref="LastDate"/>, UTC.</summary>
    public static readonly Instant EndInstant = Instant.FromUtc(2101, 1, 1, 0, 0);

    public const string IdRule = "1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit";
    public const string NameRule = "1-128 characters: letters, digits, spaces and . _ - & ( ) ' , starting with a letter or digit";

    // \z, not $: a $ would also match before a final line break.
    [GeneratedRegex(@"\A[\p{L}\p{N}][\p{L}\p{N} ._\-&()',]{0,127}\z")]
    private static partial Regex NamePattern();

    public static string? Id(string value) =>
        IsId(value) ? null : $"must be {IdRule}; got {Quote(value)}.";

    /// <summary>
    /// The id rule as one vectorized scan: ids are checked several times for every usage record ingested. (It was a
    /// regex ending in <c>$</c>, which also let a final line break through.)
    /// </summary>
    private static bool IsId(string value) =>
        value.Length is >= 1 and <= MaxIdLength && char.IsAsciiLetterOrDigit(value[0]) && !value.AsSpan(1).ContainsAnyExcept(IdCharacters);

    /// <summary>Every character an id may hold: ASCII letters, digits and <c>. _ : -</c>.</summary>
    public static readonly System.Buffers.SearchValues<char> IdCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

    public static string? Name(string value) =>
        NamePattern().IsMatch(value) && !value.EndsWith(' ') ? null : $"must be {NameRule}; got {Quote(value)}.";

    /// <summary>Free text: at most 2,000 characters, no control characters but tab and line breaks, well-formed Unicode.</summary>
    public static string? Text(string value)
    {
        if (value.Length > MaxTextLength)
        {
            return $"must be at most {MaxTextLength} characters; got {value.Length}.";
        }

        return BadCharacter(value, allowLineBreaks: true) is { } bad ? bad : null;
    }

    /// <summary>A secret: 16-256 characters, no control characters.</summary>
    public static string? Secret(string value)
    {
        if (value.Length is < MinSecretLength or > MaxSecretLength)
        {
            return $"must be {MinSecretLength} to {MaxSecretLength} characters long; got {value.Length}. Use a long random value, e.g. 32 random bytes in hex.";
        }

        return BadCharacter(value, allowLineBreaks: false);
    }

    /// <summary>Control characters (tab and line breaks aside, when allowed) or a lone UTF-16 surrogate; null when the text is clean.</summary>
    public static string? BadCharacter(string value, bool allowLineBreaks)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }

            if (char.IsSurrogate(c))
            {
                return $"contains an unpaired UTF-16 surrogate at position {i}; send well-formed Unicode.";
            }

            if (char.IsControl(c) && !(allowLineBreaks && c is '\t' or '\n' or '\r'))
            {
                return $"contains the control character U+{(int)c:X4} at position {i}; remove it.";
            }
        }

        return null;
    }

    public static string? Currency(string? code) =>
        Currencies.IsKnown(code) ? null : $"must be an ISO 4217 currency code such as USD or EUR; got {Quote(code)}.";

    /// <summary>An amount of money: magnitude at most 10^15, and at most <paramref name="decimals"/> decimals when given.</summary>
    public static string? Amount(decimal amount, int? decimals)
    {
        if (Math.Abs(amount) > MaxMoney)
        {
            return $"must be at most 1000000000000000 (10^15) in magnitude; got {amount.ToString(CultureInfo.InvariantCulture)}.";
        }

        return decimals is { } places && decimal.Round(amount, places) != amount
            ? $"has more decimals than {places}; got {amount.ToString(CultureInfo.InvariantCulture)}."
            : null;
    }

    /// <summary>Commitment amounts are settled in the currency's minor unit (cents for USD, none for JPY).</summary>
    public static string? SettledAmount(decimal amount, string currency) => Amount(amount, Currencies.MinorUnit(currency));

    public static string? Price(decimal amount) => Amount(amount, PriceDecimals);

    public static string? ChipHours(decimal hours)
    {
        if (hours <= 0 || hours > MaxChipHours)
        {
            return $"must be greater than 0 and at most 1000000000 (10^9) per record; got {hours.ToString(CultureInfo.InvariantCulture)}.";
        }

        return decimal.Round(hours, ChipHoursDecimals) != hours
            ? $"has more than {ChipHoursDecimals} decimals; got {hours.ToString(CultureInfo.InvariantCulture)}."
            : null;
    }

    public static string? Tokens(long tokens) =>
        tokens is < 0 or > MaxTokens ? $"must be between 0 and 1000000000000000 (10^15) per record; got {tokens}." : null;

    /// <summary>The largest chip figure (TFLOPS, milliseconds, TFLOPS per watt) the catalog takes: 10^6.</summary>
    public const decimal MaxChipFigure = 1_000_000m;

    /// <summary>A chip figure: greater than 0, at most 10^6, at most 6 decimals.</summary>
    public static string? ChipFigure(decimal value)
    {
        if (value <= 0 || value > MaxChipFigure)
        {
            return $"must be greater than 0 and at most 1000000 (10^6); got {value.ToString(CultureInfo.InvariantCulture)}. Leave it out when unknown.";
        }

        return decimal.Round(value, 6) != value ? $"has more than 6 decimals; got {value.ToString(CultureInfo.InvariantCulture)}." : null;
    }

    public static string? Date(LocalDate date) =>
        date < FirstDate || date > LastDate ? $"must be between 2000-01-01 and 2100-12-31; got {date:yyyy-MM-dd}." : null;

    public static string? InstantInRange(Instant instant) =>
        instant < FirstInstant || instant >= EndInstant
            ? $"must be between 2000-01-01T00:00:00Z and 2100-12-31T23:59:59Z; got {instant}."
            : null;

    private static string Quote(string? value) => value is null
        ? "nothing"
        : value.Length > 40 ? $"'{Printable(value[..40])}…' ({value.Length} characters)" : $"'{Printable(value)}'";

    /// <summary>Echoing a value back must not smuggle control characters into a response or a log line.</summary>
    private static string Printable(string value) =>
        string.Concat(value.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
