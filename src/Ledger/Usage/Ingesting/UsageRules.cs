using System.Security.Cryptography;
using System.Text;
using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Ledger.Commitments;

namespace ComputeLedger.Ledger.Usage.Ingesting;

/// <summary>A usage record as submitted; any field may be missing.</summary>
public sealed record UsageSubmission(
    string? UsageId,
    string? CommitmentId,
    string? Provider,
    string? Chip,
    string? Region,
    decimal? ChipHours,
    Instant? Start,
    Instant? End,
    long? Tokens)
{
    /// <summary>
    /// A digest of what was submitted (not of the price applied), so a retry of the same record matches
    /// even after rate cards change, and the same usageId with other content never does.
    /// </summary>
    public string Fingerprint()
    {
        // The canonical text is stored fingerprints' contract: fields joined by U+001F, chip-hours without trailing zeros,
        // instants as Unix ticks. It is written into a stack buffer and hashed from there (no boxing, no custom numeric
        // format: a positive decimal divided by 1.000… loses its trailing zeros and prints the same digits).
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        Span<char> text = stackalloc char[1024];
        // Nullable numbers would be boxed by the interpolation: present ones are written as plain longs, and a record
        // missing its window (which the rules refuse anyway) takes the plain way.
        if (ChipHours is not { } hours || hours <= 0 || Start is not { } start || End is not { } end
            || !text.TryWrite(invariant, $"{UsageId}\u001f{CommitmentId}\u001f{Provider}\u001f{Chip}\u001f{Region}\u001f{hours / TrailingZeros}\u001f{start.ToUnixTimeTicks()}\u001f{end.ToUnixTimeTicks()}\u001f", out var length))
        {
            return Canonical();
        }

        if (Tokens is { } tokens)
        {
            if (!tokens.TryFormat(text[length..], out var written, default, invariant))
            {
                return Canonical();
            }

            length += written;
        }

        Span<byte> utf8 = stackalloc byte[length * 3];
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        // One digest context per thread, reset by each use: a one-shot hash sets up and tears down OpenSSL's per call.
        var digest = Digest ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        digest.AppendData(utf8[..Encoding.UTF8.GetBytes(text[..length], utf8)]);
        digest.GetHashAndReset(hash);
        return Convert.ToHexString(hash);
    }

    [ThreadStatic]
    private static IncrementalHash? Digest;

    private const decimal TrailingZeros = 1.0000000000000000000000000000m;

    /// <summary>The canonical text the plain way, for what the fast way leaves (non-positive or missing hours, text over 1,024 characters).</summary>
    private string Canonical()
    {
        var canonical = string.Join('\u001f',
            UsageId, CommitmentId, Provider, Chip, Region ?? "",
            ChipHours?.ToString("0.############################", System.Globalization.CultureInfo.InvariantCulture),
            Start?.ToUnixTimeTicks(), End?.ToUnixTimeTicks(), Tokens);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}

/// <summary>What the rules need to know about the commitment a record draws on; <see cref="Currency"/> is that of its committed spend.</summary>
public sealed record CommitmentFacts(string CommitmentId, CommitmentStatus Status, string Provider, IReadOnlyList<string> Chips, string? Currency);

public static class UsageRules
{
    public static readonly Duration LongestWindow = Duration.FromDays(31);
    public static readonly Duration FutureTolerance = Duration.FromMinutes(5);

    /// <summary>
    /// Checks one record and prices it. Returns the event to store, or every reason it is rejected.
    /// Pure: the commitment, the rate books and <paramref name="now"/> are given.
    /// </summary>
    public static (ChipHoursConsumed? Event, IReadOnlyList<string> Errors) Check(
        UsageSubmission r, CommitmentFacts? commitment, RateBook providerRates, RateBook overrides, Instant now)
    {
        // The list is made on the first error: an accepted record allocates none.
        List<string>? errors = null;
        Require(r.UsageId, "usageId", Limits.Id, ref errors);
        if (Require(r.CommitmentId, "commitmentId", Limits.Id, ref errors))
        {
            if (commitment is null)
            {
                Add(ref errors, $"commitment '{r.CommitmentId}' is unknown.");
            }
            else if (commitment.Status != CommitmentStatus.Signed)
            {
                Add(ref errors, $"commitment '{r.CommitmentId}' is {commitment.Status}, not signed: usage cannot draw on it.");
            }
        }

        if (Require(r.Provider, "provider", Limits.Name, ref errors) && commitment is not null
            && !string.Equals(r.Provider, commitment.Provider, StringComparison.Ordinal))
        {
            Add(ref errors, $"provider '{r.Provider}' differs from commitment '{commitment.CommitmentId}''s provider '{commitment.Provider}'.");
        }

        // Spend is grouped by chip name, so the commitment's spelling of the chip is the one stored.
        string? chip = null;
        if (Require(r.Chip, "chip", Limits.Id, ref errors) && commitment is not null && (chip = Covered(commitment.Chips, r.Chip!)) is null)
        {
            Add(ref errors, $"chip '{r.Chip}' is not covered by commitment '{commitment.CommitmentId}' (it covers {string.Join(", ", commitment.Chips)}).");
        }

        if (r.Region is not null && Limits.Id(r.Region) is { } badRegion)
        {
            Add(ref errors, $"region {badRegion}");
        }

        if (r.ChipHours is not { } hours)
        {
            Add(ref errors, "chipHours is required.");
        }
        else if (Limits.ChipHours(hours) is { } badHours)
        {
            Add(ref errors, $"chipHours {badHours}");
        }

        var startOk = CheckInstant(r.Start, "start", "2026-01-01T00:00:00Z", ref errors);
        var endOk = CheckInstant(r.End, "end", "2026-01-01T01:00:00Z", ref errors);
        if (startOk && endOk && r is { Start: { } start, End: { } end })
        {
            if (end <= start)
            {
                Add(ref errors, $"end {end} must be after start {start}.");
            }
            else if (end - start > LongestWindow)
            {
                Add(ref errors, $"the window {start} to {end} is longer than 31 days; split it.");
            }

            if (end > now + FutureTolerance)
            {
                Add(ref errors, $"end {end} is more than 5 minutes in the future (now is {now}).");
            }
        }

        if (r.Tokens is { } tokens && Limits.Tokens(tokens) is { } badTokens)
        {
            Add(ref errors, $"tokens {badTokens}");
        }

        if (errors is not null)
        {
            return (null, errors);
        }

        var rate = RateBook.Price(providerRates, overrides, r.Chip!, r.Region, r.Start!.Value);
        if (rate is null)
        {
            return (null, [$"no rate applies to chip '{r.Chip}' in region '{r.Region ?? "(none)"}' of provider '{r.Provider}' at {r.Start}."]);
        }

        if (commitment!.Currency is { } currency && rate.PricePerChipHour.Currency != currency)
        {
            return (null, [$"the rate for chip '{r.Chip}' of provider '{r.Provider}' at {r.Start} is in {rate.PricePerChipHour.Currency}, but commitment '{commitment.CommitmentId}' is in {currency}."]);
        }

        var amount = rate.PricePerChipHour.Times(r.ChipHours!.Value).ToCents();
        if (Limits.Amount(amount.Amount, null) is { } tooMuch)
        {
            return (null, [$"the record's amount ({r.ChipHours} chip-hours at {rate.PricePerChipHour}) {tooMuch} Split it into smaller records."]);
        }

        return (new ChipHoursConsumed(r.UsageId!, r.CommitmentId!, r.Provider!, chip!, r.Region, r.ChipHours.Value,
            r.Start.Value, r.End!.Value, r.Tokens, rate.PricePerChipHour, amount, rate.Source, now), []);
    }

    /// <summary>The commitment's spelling of <paramref name="chip"/> (names match case-insensitively), or null if it does not cover it.</summary>
    private static string? Covered(IReadOnlyList<string> chips, string chip)
    {
        for (var i = 0; i < chips.Count; i++)
        {
            if (string.Equals(chips[i], chip, StringComparison.OrdinalIgnoreCase))
            {
                return chips[i];
            }
        }

        return null;
    }

    private static void Add(ref List<string>? errors, string error) => (errors ??= []).Add(error);

    /// <summary>A required string field that must pass <paramref name="rule"/>; true when it did.</summary>
    private static bool Require(string? value, string field, Func<string, string?> rule, ref List<string>? errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(ref errors, $"{field} is required.");
            return false;
        }

        if (rule(value) is { } wrong)
        {
            Add(ref errors, $"{field} {wrong}");
            return false;
        }

        return true;
    }

    private static bool CheckInstant(Instant? value, string field, string example, ref List<string>? errors)
    {
        if (value is not { } instant)
        {
            Add(ref errors, $"{field} is required (an ISO-8601 instant such as {example}).");
            return false;
        }

        if (Limits.InstantInRange(instant) is { } wrong)
        {
            Add(ref errors, $"{field} {wrong}");
            return false;
        }

        return true;
    }
}
