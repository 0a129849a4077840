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
    /// <summary>Commands, cards and registrations are small; only usage batches (16 MiB, read by their own endpoint) are large.</summary>
    public const long MaxBytes = 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var accepts = context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>();
        var requestType = accepts?.RequestType;
        if (requestType is null || requestType == typeof(HttpRequest) || !IsJson(context.Request.ContentType))
        {
            await next(context);
            return;
        }

        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBytes;
        }

        if (context.Request.ContentLength > MaxBytes)
        {
            logger.LogInformation("Refused {Method} {Path}: body of {Bytes} bytes", context.Request.Method, context.Request.Path, context.Request.ContentLength);
            await Problems.Write(context, StatusCodes.Status413PayloadTooLarge, "Request body too large",
                $"The body is {context.Request.ContentLength} bytes; this endpoint takes at most {MaxBytes} (1 MiB). Nothing was stored.");
            return;
        }

        // The body is at most 1 MiB: read it once, check it, and hand the same bytes to the endpoint.
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        if (buffer.Length > MaxBytes)
        {
            await Problems.Write(context, StatusCodes.Status413PayloadTooLarge, "Request body too large",
                $"The body is larger than {MaxBytes} bytes (1 MiB), the limit of this endpoint. Nothing was stored.");
            return;
        }

        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        string? problemField = null;
        string? problem = null;
        if (bytes.Length > 0)
        {
            if (!System.Text.Unicode.Utf8.IsValid(bytes.Span))
            {
                // JSON is UTF-8 (RFC 8259); the parser skips unknown members without decoding them, so check it all.
                (problemField, problem) = ("body", "not valid UTF-8: send the JSON text encoded as UTF-8.");
            }
            else
            {
                try
                {
                    var parsed = JsonSerializer.Deserialize(bytes.Span, requestType, Json.Options);
                    if (parsed is null && !accepts!.IsOptional)
                    {
                        (problemField, problem) = ("body", "expected a JSON object, not null.");
                    }
                }
                catch (JsonException e)
                {
                    (problemField, problem) = JsonShape.Explain(requestType, e);
                }
            }
        }

        context.Request.Body = new MemoryStream(bytes.ToArray(), writable: false);
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
