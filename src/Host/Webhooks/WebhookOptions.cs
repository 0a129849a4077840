using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ComputeLedger.Host.Webhooks;

/// <summary>
/// Ledger:Webhooks settings. AllowedHosts: the hosts webhooks may point at outside Development (https only there).
/// BackoffSeconds: the waits before each retry (default doubling from 1 s, capped at 10 minutes: 13 attempts over about 37 minutes).
/// TimeoutSeconds: how long one attempt may take (default 10).
/// </summary>
public sealed class WebhookOptions
{
    public const int MaxUrlLength = 2_000;

    public IReadOnlyList<string> AllowedHosts { get; init; } = [];
    public IReadOnlyList<TimeSpan> Backoff { get; init; } = [];
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Development (tests and ./run.sh) also allows http and loopback receivers.</summary>
    public bool AllowLoopback { get; init; }

    public static WebhookOptions From(IConfiguration configuration, bool development) => new()
    {
        AllowedHosts = configuration.GetSection("Ledger:Webhooks:AllowedHosts").Get<string[]>() ?? [],
        Backoff = (configuration["Ledger:Webhooks:BackoffSeconds"] ?? "1,2,4,8,16,32,64,128,256,512,600,600")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => TimeSpan.FromSeconds(double.Parse(s, CultureInfo.InvariantCulture))).ToArray(),
        Timeout = TimeSpan.FromSeconds(configuration.GetValue("Ledger:Webhooks:TimeoutSeconds", 10.0)),
        AllowLoopback = development,
    };

    /// <summary>Why a receiver URL is refused (server-side request forgery guard); null when it is acceptable.</summary>
    public string? Refusal(string? url)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > MaxUrlLength || Limits.BadCharacter(url, allowLineBreaks: false) is not null
            || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return $"url must be an absolute https URL of at most {MaxUrlLength} characters.";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "url must not carry credentials; sign with the secret instead.";
        }

        var allowListed = AllowedHosts.Contains(uri.Host, StringComparer.OrdinalIgnoreCase);
        if (AllowLoopback && uri.IsLoopback)
        {
            return null;
        }

        if (uri.Scheme != "https" && !AllowLoopback)
        {
            return $"url must use https; '{uri.Scheme}' is only accepted for loopback receivers in Development.";
        }

        return allowListed
            ? null
            : $"host '{uri.Host}' is not on the webhook allow-list (Ledger:Webhooks:AllowedHosts). Ask an operator to add it.";
    }

    /// <summary>Checked again when connecting, after DNS: an allow-listed name that resolves to a private address is refused.</summary>
    public bool MayConnectTo(IPAddress address) =>
        (AllowLoopback && IPAddress.IsLoopback(address)) || !IsPrivate(address);

    private static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal
            || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return true;
        }

        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }

        var b = address.GetAddressBytes();
        return b[0] is 10 or 127 or 0
               || (b[0] == 169 && b[1] == 254)
               || (b[0] == 172 && b[1] is >= 16 and <= 31)
               || (b[0] == 192 && b[1] == 168)
               || (b[0] == 100 && b[1] is >= 64 and <= 127);
    }
}
