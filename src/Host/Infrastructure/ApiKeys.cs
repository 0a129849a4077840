using System.Security.Claims;

namespace ComputeLedger.Host.Infrastructure;

public enum ApiRole
{
    Admin,
    Analyst,
    Ingest,
}

/// <summary>One configured key. Ingest keys are scoped to one provider.</summary>
public sealed class ApiKeyOptions
{
    public string Key { get; set; } = "";
    public string? Name { get; set; }
    public ApiRole Role { get; set; }
    public string? Provider { get; set; }
}

/// <summary>Who is calling, as established from the X-Api-Key header; endpoints take it to stamp events.</summary>
public sealed record Caller(string Name, ApiRole Role, string? Provider)
{
    public const string RoleClaim = "ledger:role";
    public const string ProviderClaim = "ledger:provider";

    public static Caller From(ClaimsPrincipal user) => new(
        user.Identity?.Name ?? "anonymous",
        Enum.TryParse<ApiRole>(user.FindFirstValue(RoleClaim), out var role) ? role : ApiRole.Analyst,
        user.FindFirstValue(ProviderClaim));

    public ClaimsPrincipal ToPrincipal()
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, Name), new(RoleClaim, Role.ToString()) };
        if (Provider is not null)
        {
            claims.Add(new Claim(ProviderClaim, Provider));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, "ApiKey"));
    }
}

/// <summary>
/// Every /api request carries X-Api-Key. Missing or unknown key: 401. Known key, wrong role: 403.
/// Admin may do everything, analyst only reads, ingest only posts usage.
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, IConfiguration configuration)
{
    public const string Header = "X-Api-Key";

    private readonly Dictionary<string, ApiKeyOptions> _keys = configuration.GetSection("Ledger:ApiKeys")
        .Get<List<ApiKeyOptions>>()?
        .Where(k => !string.IsNullOrWhiteSpace(k.Key))
        .ToDictionary(k => k.Key, StringComparer.Ordinal) ?? [];

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }

        var presented = context.Request.Headers[Header].ToString();
        if (string.IsNullOrEmpty(presented) || !_keys.TryGetValue(presented, out var key))
        {
            await Problems.Write(context, StatusCodes.Status401Unauthorized, "Missing or unknown API key",
                string.IsNullOrEmpty(presented)
                    ? $"Send your API key in the {Header} header."
                    : $"The key in {Header} is not known to this ledger.");
            return;
        }

        var caller = new Caller(key.Name ?? key.Role.ToString().ToLowerInvariant(), key.Role, key.Provider);
        if (!IsAllowed(caller.Role, context.Request))
        {
            await Problems.Write(context, StatusCodes.Status403Forbidden, "Not allowed for this key's role",
                $"A key with role '{caller.Role.ToString().ToLowerInvariant()}' may not {context.Request.Method} {context.Request.Path}.");
            return;
        }

        context.User = caller.ToPrincipal();
        await next(context);
    }

    private static bool IsAllowed(ApiRole role, HttpRequest request) => role switch
    {
        ApiRole.Admin => true,
        // Webhooks carry signing secrets and target URLs, dead letters raw event data and errors: admin only, reads included.
        ApiRole.Analyst => (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
                           && !request.Path.StartsWithSegments("/api/webhooks", StringComparison.OrdinalIgnoreCase)
                           && !request.Path.StartsWithSegments("/api/dead-letters", StringComparison.OrdinalIgnoreCase),
        ApiRole.Ingest => HttpMethods.IsPost(request.Method)
                          && request.Path.Equals("/api/usage", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}
