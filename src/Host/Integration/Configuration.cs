using ComputeLedger.Contracts;
using Wolverine;
using Wolverine.Postgresql;
using Wolverine.RabbitMQ;

namespace ComputeLedger.Host.Integration;

public static class Configuration
{
    /// <summary>The PostgreSQL queue integration events go to unless Ledger:Integration:Queues names others.</summary>
    public const string DefaultQueue = "ledger_events";

    /// <summary>The RabbitMQ fanout exchange integration events go to when Ledger:RabbitMq is configured; bind a queue to it.</summary>
    public const string Exchange = "ledger-events";

    /// <summary>
    /// Where integration events go. By default: durable queues on the ledger's own PostgreSQL (one per consumer, named by
    /// Ledger:Integration:Queues), so nothing but the database is needed. With Ledger:RabbitMq (an amqp:// URI) they go to a
    /// fanout exchange instead (and to PostgreSQL queues too only when Ledger:Integration:Queues names them). Every route sends from the durable outbox, so a message exists once its ledger transaction
    /// commits and is retried until the transport accepts it.
    /// </summary>
    public static WolverineOptions AddIntegration(this WolverineOptions options, IConfiguration configuration)
    {
        var rabbit = configuration["Ledger:RabbitMq"];
        // With a broker, the PostgreSQL queues are only kept when named explicitly: a queue nobody reads only grows.
        var queues = configuration.GetSection("Ledger:Integration:Queues").Get<string[]>() is { Length: > 0 } named ? named
            : string.IsNullOrEmpty(rabbit) ? [DefaultQueue] : [];
        options.Publish(rule =>
        {
            rule.MessagesImplementing<ILedgerIntegrationEvent>();
            foreach (var queue in queues)
            {
                rule.ToPostgresqlQueue(queue);
            }

            rule.ToLocalQueue(Webhooks.Configuration.FanOutQueue);
        });

        if (!string.IsNullOrEmpty(rabbit))
        {
            options.UseRabbitMq(new Uri(rabbit)).AutoProvision();
            options.Publish(rule =>
            {
                rule.MessagesImplementing<ILedgerIntegrationEvent>();
                rule.ToRabbitExchange(Exchange, exchange => exchange.ExchangeType = ExchangeType.Fanout);
            });
        }

        options.Policies.UseDurableOutboxOnAllSendingEndpoints();
        options.Policies.UseDurableLocalQueues();
        return options;
    }
}
