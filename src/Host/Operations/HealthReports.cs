using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ComputeLedger.Host.Operations;

/// <summary>/health as JSON: the overall status and, per check, its status and what it says.</summary>
public static class HealthReports
{
    public static Task Write(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }
}
