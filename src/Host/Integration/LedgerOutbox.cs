using ComputeLedger.Ledger.Commitments;
using Marten;
using Wolverine;
using Wolverine.Marten.Publishing;
using Wolverine.Runtime;

namespace ComputeLedger.Host.Integration;

/// <summary>
/// The one way onto a Commitment stream: append the decided events and publish the integration events they announce
/// through the bus's outbox. The bus must be enlisted in the session's transaction (an outboxed session, see
/// <see cref="Wolverine.Marten.Publishing.OutboxedSessionFactory"/>), so the messages are stored by the same commit as
/// the ledger events and sent only after it; a crash in between leaves them in the outbox, and a restarted node sends them.
/// </summary>
public static class LedgerOutbox
{
    public static async Task Append(IDocumentSession session, IMessageBus bus, string commitmentId, Commitment? before, long versionBefore,
        IReadOnlyList<object> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        if (bus is not MessageContext { Transaction: not null })
        {
            throw new InvalidOperationException("Integration events must go through an outboxed session: open it from OutboxedSessionFactory with this bus.");
        }

        if (before is null)
        {
            session.Events.StartStream<Commitment>(commitmentId, [.. events]);
        }
        else
        {
            session.Events.Append(commitmentId, versionBefore + events.Count, [.. events]);
        }

        foreach (var message in IntegrationEvents.For(before, versionBefore, events))
        {
            await bus.PublishAsync(message);
        }
    }

    /// <summary>
    /// An outboxed session for work no request carries (the watch, the demo seeder): a scope of its own, its bus, and a
    /// session enlisted with that bus, disposed together.
    /// </summary>
    public static OutboxedScope Open(IServiceProvider services) => new(services.CreateAsyncScope());

    public sealed class OutboxedScope : IAsyncDisposable
    {
        private readonly AsyncServiceScope _scope;

        internal OutboxedScope(AsyncServiceScope scope)
        {
            _scope = scope;
            Bus = scope.ServiceProvider.GetRequiredService<IMessageBus>();
            Session = scope.ServiceProvider.GetRequiredService<OutboxedSessionFactory>().OpenSession(Bus);
        }

        public IMessageBus Bus { get; }

        public IDocumentSession Session { get; }

        public async ValueTask DisposeAsync()
        {
            await Session.DisposeAsync();
            await _scope.DisposeAsync();
        }
    }
}
