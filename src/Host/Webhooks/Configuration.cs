using System.Net;
using System.Net.Sockets;
using Marten;
using Npgsql;
using Wolverine.ErrorHandling;
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
        // A database hiccup while fanning out or logging an attempt is retried, not dead-lettered at once.
        options.Policies.OnException<NpgsqlException>()
            .RetryWithCooldown(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
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
                // The SSRF guard again at connect time, after DNS: only addresses webhooks may reach are connected to.
                ConnectCallback = async (context, ct) =>
                {
                    var options = sp.GetRequiredService<WebhookOptions>();
                    var addresses = (await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, ct)).Where(options.MayConnectTo).ToList();
                    if (addresses.Count == 0)
                    {
                        throw new HttpRequestException($"{context.DnsEndPoint.Host} resolves only to addresses webhooks may not reach.");
                    }

                    // Like the default handler, try each address in turn (localhost may answer on 127.0.0.1 but not ::1).
                    SocketException? last = null;
                    foreach (var address in addresses)
                    {
                        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                        try
                        {
                            await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                            return new NetworkStream(socket, ownsSocket: true);
                        }
                        catch (SocketException e)
                        {
                            socket.Dispose();
                            last = e;
                        }
                        catch
                        {
                            socket.Dispose();
                            throw;
                        }
                    }

                    throw new HttpRequestException($"could not connect to {context.DnsEndPoint.Host}:{context.DnsEndPoint.Port}: {last!.Message}", last);
                },
            });
        return services;
    }
}
