using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ComputeLedger.Host.Tests.Integration;

/// <summary>A real HTTP webhook receiver on a loopback port; <paramref name="answer"/> decides each reply from the request number (1-based).</summary>
public sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _arrived;

    public sealed record Request(int Number, byte[] Body, string? Signature, int Status, string? Traceparent = null);

    public ConcurrentQueue<Request> Requests { get; } = new();

    public string Url { get; private set; } = "";

    /// <summary>Requests that reached the receiver, answered or not yet (<see cref="Requests"/> holds only answered ones).</summary>
    public int Arrived => Volatile.Read(ref _arrived);

    private Receiver(WebApplication app) => _app = app;

    public static async Task<Receiver> Start(Func<int, Task<int>> answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var number = Interlocked.Increment(ref receiver._arrived);
            var status = await answer(number);
            receiver.Requests.Enqueue(new Request(number, buffer.ToArray(), context.Request.Headers["X-Ledger-Signature"].ToString(), status,
                context.Request.Headers["traceparent"].ToString()));
            context.Response.StatusCode = status;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = $"{address}/hook";
        return receiver;
    }

    public async Task<List<Request>> WaitFor(Func<List<Request>, bool> done, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!done([.. Requests]))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The receiver got {Requests.Count} request(s) within {seconds}s.");
            }

            await Task.Delay(100);
        }

        return [.. Requests];
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
