using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ComputeLedger.Host.Infrastructure;

/// <summary>
/// Turns a <see cref="JsonException"/> into the field at fault and what it expects, in plain words: the JSON path is
/// walked down the request type to the member it names, so "could not be converted to System.Nullable`1[...]" becomes
/// <c>"signedOn": ["expected a date like 2025-01-15"]</c>. Syntax errors are the body's, with the place to look.
/// </summary>
public static partial class JsonShape
{
    public static (string Field, string Message) Explain(Type root, JsonException error, string fieldPrefix = "")
    {
        if (IsSyntax(error))
        {
            var where = error.LineNumber is { } line ? $" near line {line + 1}, position {(error.BytePositionInLine ?? 0) + 1}" : "";
            return (fieldPrefix.Length > 0 ? fieldPrefix.TrimEnd('.') : "body", $"not valid JSON{where}: check quotes, commas and brackets.");
        }

        var (field, type) = Walk(root, error.Path);
        return (field == "body" && fieldPrefix.Length > 0 ? fieldPrefix.TrimEnd('.') : fieldPrefix + field, $"expected {Expected(type)}.");
    }

    /// <summary>The reader's own exception (internal to System.Text.Json) means the text is not JSON at all.</summary>
    private static bool IsSyntax(JsonException error) =>
        error.GetType().Name == "JsonReaderException" || error.InnerException?.GetType().Name == "JsonReaderException";

    /// <summary>The field name as the client wrote it, and the .NET type behind it (the root when the path is not understood).</summary>
    private static (string Field, Type Type) Walk(Type root, string? path)
    {
        var type = root;
        var field = "";
        foreach (Match step in PathStep().Matches(path ?? ""))
        {
            if (step.Groups["index"].Success)
            {
                field += $"[{step.Groups["index"].Value}]";
                type = ElementType(type) ?? type;
                continue;
            }

            var name = step.Groups["name"].Success ? step.Groups["name"].Value : step.Groups["quoted"].Value;
            field += field.Length == 0 ? name : $".{name}";
            var member = Unwrap(type).GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (member is null)
            {
                return (field, typeof(object));
            }

            type = member.PropertyType;
        }

        return (field.Length == 0 ? "body" : field, type);
    }

    private static Type Unwrap(Type type) => Nullable.GetUnderlyingType(type) ?? type;

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[0]
        : null;

    private static string Expected(Type type)
    {
        var t = Unwrap(type);
        return t switch
        {
            _ when t == typeof(LocalDate) => "a date like 2025-01-15 (yyyy-MM-dd)",
            _ when t == typeof(Instant) => "an ISO-8601 instant in UTC like 2026-01-01T00:00:00Z",
            _ when t == typeof(decimal) => "a number like 1234.5, at most 10^15 in magnitude",
            _ when t == typeof(long) || t == typeof(int) => "a whole number like 42, without decimals or quotes",
            _ when t == typeof(bool) => "true or false",
            _ when t == typeof(Guid) => "an id like 0192f3a1-7c3e-7d4a-9b1e-2f6c8d9e0a1b",
            _ when t == typeof(string) => "a text in double quotes",
            _ when t.IsEnum => $"one of {string.Join(", ", Enum.GetNames(t))}",
            _ when ElementType(t) is not null => "an array [ … ]",
            _ when t == typeof(object) => "a value this field accepts (see /openapi/v1.json)",
            _ => "a JSON object { … }",
        };
    }

    // $.a.b[3]['c d'] → a, b, [3], c d
    [GeneratedRegex(@"\.(?<name>[^.\[\]]+)|\[(?<index>\d+)\]|\['(?<quoted>[^']*)'\]")]
    private static partial Regex PathStep();
}

/// <summary>
/// Reads a JSON request body once before Wolverine does, with the same options, so that a malformed body, a value of the
/// wrong type or a literal <c>null</c> gets a 400 naming the field in plain words (and one log line) instead of
/// Wolverine's generic answer with .NET type names. The body is buffered and rewound for the endpoint.
/// </summary>
public sealed class JsonBodyGuard(RequestDelegate next, ILogger<JsonBodyGuard> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var accepts = context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>();
        var requestType = accepts?.RequestType;
        if (requestType is null || requestType == typeof(HttpRequest) || !IsJson(context.Request.ContentType))
        {
            await next(context);
            return;
        }

        context.Request.EnableBuffering();
        string? problemField = null;
        string? problem = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                var parsed = await JsonSerializer.DeserializeAsync(context.Request.Body, requestType, Json.Options, context.RequestAborted);
                if (parsed is null && !accepts!.IsOptional)
                {
                    (problemField, problem) = ("body", "expected a JSON object, not null.");
                }
            }
            catch (JsonException e)
            {
                (problemField, problem) = JsonShape.Explain(requestType, e);
            }

            context.Request.Body.Position = 0;
        }

        if (problem is null)
        {
            await next(context);
            return;
        }

        logger.LogInformation("Refused {Method} {Path}: {Field}: {Message}", context.Request.Method, context.Request.Path, problemField, problem);
        await Problems.Invalid(problemField!, problem).ExecuteAsync(context);
    }

    private static bool IsJson(string? contentType) =>
        contentType is null || contentType.Split(';')[0].Trim() is var media && (media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase) || media.Equals("text/json", StringComparison.OrdinalIgnoreCase));
}
