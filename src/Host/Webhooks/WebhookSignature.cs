using System.Security.Cryptography;
using System.Text;

namespace ComputeLedger.Host.Webhooks;

/// <summary>The X-Ledger-Signature header: <c>sha256=</c> and the lower-case hex HMAC-SHA256 of the raw body under the webhook's secret.</summary>
public static class WebhookSignature
{
    public const string Header = "X-Ledger-Signature";

    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>What a receiver does: recompute and compare in constant time.</summary>
    public static bool Verify(string secret, byte[] body, string? header) =>
        header is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, body)), Encoding.ASCII.GetBytes(header));
}
