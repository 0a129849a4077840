namespace ComputeLedger.Host.Infrastructure;

/// <summary>
/// Path segments and query values reach SQL parameters and log lines, so before any endpoint runs they are held to the
/// ledger's string limits: a route value at most 128 characters, a query value at most 2,000, neither with control
/// characters or broken Unicode (PostgreSQL refuses a NUL in text, which would otherwise surface as a server error).
/// </summary>
public sealed class RequestValueGuard(RequestDelegate next, ILogger<RequestValueGuard> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var errors = new List<(string, string)>();
        foreach (var (name, value) in context.Request.RouteValues)
        {
            if (value is string text && Check(text, Limits.MaxIdLength) is { } wrong)
            {
                errors.Add((name, $"{name} {wrong}"));
            }
        }

        foreach (var (name, values) in context.Request.Query)
        {
            foreach (var text in values)
            {
                if (text is not null && Check(text, Limits.MaxTextLength) is { } wrong)
                {
                    errors.Add((name, $"{name} {wrong}"));
                }
            }
        }

        if (errors.Count == 0)
        {
            await next(context);
            return;
        }

        logger.LogInformation("Refused {Method} {Path}: {Errors}", context.Request.Method, context.Request.Path.ToString().Length > 200 ? "(long path)" : context.Request.Path,
            string.Join("; ", errors.Select(e => e.Item2)));
        await Problems.Invalid(errors).ExecuteAsync(context);
    }

    private static string? Check(string text, int maxLength) =>
        text.Length > maxLength ? $"must be at most {maxLength} characters; got {text.Length}." : Limits.BadCharacter(text, allowLineBreaks: false);
}
