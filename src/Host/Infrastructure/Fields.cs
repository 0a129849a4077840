namespace ComputeLedger.Host.Infrastructure;

/// <summary>Money as clients send it; both parts are checked before it becomes a <see cref="Money"/>.</summary>
public sealed record MoneyBody(decimal? Amount, string? Currency);

/// <summary>How finely an amount may be given: settled amounts in the currency's minor unit, prices to a millionth.</summary>
public enum Precision
{
    Settled,
    Price,
}

/// <summary>
/// The edge checks of request fields, shared by every endpoint: each reads one field, adds what is wrong with it to
/// <c>errors</c> under the field's name, and returns the clean value or null. The bounds are <see cref="Limits"/>.
/// </summary>
public static class Fields
{
    public static string? Id(string? value, string field, List<(string, string)> errors, bool required = true) =>
        Check(value, field, errors, required, Limits.Id);

    public static string? Name(string? value, string field, List<(string, string)> errors, bool required = true) =>
        Check(value, field, errors, required, Limits.Name);

    public static string? Text(string? value, string field, List<(string, string)> errors, bool required = false) =>
        Check(value, field, errors, required, Limits.Text);

    public static LocalDate? Date(LocalDate? value, string field, List<(string, string)> errors, bool required = true, string? why = null)
    {
        if (value is not { } date)
        {
            if (required)
            {
                errors.Add((field, $"{field} is required: {why ?? "a date"} (yyyy-MM-dd)."));
            }

            return null;
        }

        return Report(field, Limits.Date(date), errors) ? date : null;
    }

    /// <summary>An optional chip figure (TFLOPS, milliseconds, TFLOPS per watt): left out when unknown, else within <see cref="Limits.ChipFigure"/>.</summary>
    public static decimal? ChipFigure(decimal? value, string field, List<(string, string)> errors) =>
        value is { } v ? (Report(field, Limits.ChipFigure(v), errors) ? v : null) : null;

    public static Money? Money(MoneyBody? value, string field, List<(string, string)> errors, Precision precision = Precision.Settled)
    {
        if (value is null)
        {
            errors.Add((field, $"{field} is required, as {{ \"amount\": 1000, \"currency\": \"USD\" }}."));
            return null;
        }

        var currencyOk = Report($"{field}.currency", Limits.Currency(value.Currency), errors);
        if (value.Amount is not { } amount)
        {
            errors.Add(($"{field}.amount", $"{field}.amount is required."));
            return null;
        }

        if (amount < 0)
        {
            errors.Add(($"{field}.amount", $"{field}.amount cannot be negative."));
            return null;
        }

        var amountError = precision == Precision.Price ? Limits.Price(amount)
            : currencyOk ? Limits.SettledAmount(amount, value.Currency!)
            : Limits.Amount(amount, null);
        return Report($"{field}.amount", amountError, errors) && currencyOk ? new Money(amount, value.Currency!) : null;
    }

    private static string? Check(string? value, string field, List<(string, string)> errors, bool required, Func<string, string?> rule)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                errors.Add((field, $"{field} is required."));
            }

            return null;
        }

        var trimmed = value.Trim();
        return Report(field, rule(trimmed), errors) ? trimmed : null;
    }

    /// <summary>Adds the message under the field when there is one; true when the value passed.</summary>
    private static bool Report(string field, string? message, List<(string, string)> errors)
    {
        if (message is null)
        {
            return true;
        }

        errors.Add((field, $"{field} {message}"));
        return false;
    }
}
