using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace ComputeLedger.Host.Dashboard;

/// <summary>
/// Serves the analysts' dashboard (web/dashboard, copied to the build output's dashboard/ folder with the chart library
/// npm installed at build time) at /dashboard, and sends / there. The page is a client of the public API like any script:
/// it holds no server-side state and signs in with an API key in the X-Api-Key header.
/// </summary>
public static class DashboardPages
{
    public const string Path = "/dashboard";

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "The file provider serves for the host's lifetime and is disposed when it stops.")]
    public static WebApplication MapDashboard(this WebApplication app)
    {
        var root = System.IO.Path.Combine(AppContext.BaseDirectory, "dashboard");
        if (!Directory.Exists(root))
        {
            // A build without the front end (npm missing) still serves the API; the page says why it is absent.
            app.MapGet(Path, () => Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Dashboard not built",
                detail: $"No {root}: build the host with npm on PATH (./run.sh does) to include the dashboard.")).ExcludeFromDescription();
            return app;
        }

        var files = new PhysicalFileProvider(root);
        app.Lifetime.ApplicationStopped.Register(files.Dispose);
        app.MapGet("/", () => Results.Redirect(Path + "/")).ExcludeFromDescription();
        app.UseWhen(c => c.Request.Path.StartsWithSegments(Path, StringComparison.Ordinal), branch =>
        {
            branch.Use(async (context, next) =>
            {
                var headers = context.Response.Headers;
                // Only this origin's scripts and API: no CDN, no inline script, so a key cannot be lifted by injected code.
                headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers.CacheControl = "no-cache";
                await next(context);
            });
            // DefaultFiles also sends /dashboard to /dashboard/, so the page's relative links resolve under it.
            branch.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path, RedirectToAppendTrailingSlash = true });
            branch.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = files,
                RequestPath = Path,
                OnPrepareResponse = c => c.Context.Response.Headers[HeaderNames.CacheControl] = "no-cache",
            });
        });
        return app;
    }
}
