using System.Net;
using System.Net.Sockets;
using Marten;
using Wolverine;

namespace ComputeLedger.Host.Webhooks;

public static class Configuration
{
    public const string FanOutQueue = "webhook-fanout";
    public const string DeliveryQueue = "webhook-deliveries";

    public static StoreOptions AddWebhookDocuments(this StoreOptions options)
    {
        options.Schema.For<Webhook>();
        options.Schema.For<WebhookDelivery>().Index(d => d.WebhookId);
        return options;
    }

    /// <summary>
    /// Deliveries run on their own durable local queue, several at a time, so one slow receiver holds up neither the
    /// ledger nor the other webhooks. Scheduled retries are persisted, so they survive a restart.
    /// </summary>
    public static WolverineOptions AddWebhooks(this WolverineOptions options)
    {
        options.LocalQueue(FanOutQueue).UseDurableInbox().Sequential();
        // Attempts mostly wait on the network, so many run at once: a receiver slow to answer ties up a slot for at most
        // the attempt timeout, and it would take 32 such deliveries at the same moment to delay anyone else.
        options.LocalQueue(DeliveryQueue).UseDurableInbox().MaximumParallelMessages(32);
        options.PublishMessage<DeliverWebhook>().ToLocalQueue(DeliveryQueue);
        options.Durability.ScheduledJobPollingTime = TimeSpan.FromSeconds(1);
        return options;
    }

    public static IServiceCollection AddWebhookDelivery(this IServiceCollection services)
    {
        // Read when first needed, so configuration added by a test host or a later provider counts.
        services.AddSingleton(sp => WebhookOptions.From(sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<IHostEnvironment>().IsDevelopment()));
        services.AddHttpClient(DeliverWebhookHandler.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                // The SSRF guard again at connect time: every address the name resolves to must be allowed.
                ConnectCallback = async (context, ct) =>
                {
                    var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, ct);
                    var allowed = addresses.FirstOrDefault(sp.GetRequiredService<WebhookOptions>().MayConnectTo)
                                  ?? throw new HttpRequestException($"{context.DnsEndPoint.Host} resolves only to addresses webhooks may not reach.");
                    var socket = new Socket(allowed.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        await socket.ConnectAsync(new IPEndPoint(allowed, context.DnsEndPoint.Port), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            });
        return services;
    }
}
