namespace ComputeLedger.Ledger;

/// <summary>
/// An amount of money in one currency. Invariant: <see cref="Currency"/> is a three-letter upper-case ISO 4217 code.
/// Arithmetic across currencies is refused rather than silently summed.
/// </summary>
public readonly record struct Money(decimal Amount, string Currency)
{
    public static Money Zero(string currency) => new(0m, currency);

    public Money Plus(Money other)
    {
        EnsureSameCurrency(other);
        return this with { Amount = Amount + other.Amount };
    }

    public Money Minus(Money other)
    {
        EnsureSameCurrency(other);
        return this with { Amount = Amount - other.Amount };
    }

    public Money Times(decimal factor) => this with { Amount = Amount * factor };

    /// <summary>Rounded to the cent, half away from zero: the unit amounts are settled in.</summary>
    public Money ToCents() => this with { Amount = decimal.Round(Amount, 2, MidpointRounding.AwayFromZero) };

    public static bool IsCurrencyCode(string? code) =>
        code is { Length: 3 } && code.All(c => c is >= 'A' and <= 'Z');

    private void EnsureSameCurrency(Money other)
    {
        if (!string.Equals(Currency, other.Currency, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Cannot combine {Currency} and {other.Currency} amounts.");
        }
    }

    public override string ToString() => $"{Amount:0.##} {Currency}";
}
