using Marten;
using Wolverine;
using Wolverine.Marten.Publishing;

namespace ComputeLedger.Host.Integration;

/// <summary>
/// An outboxed session for work no request carries (the watch, the demo seeder): a scope of its own, its bus, and a
/// session enlisted with that bus (<see cref="OutboxedSessionFactory"/>), disposed together. What such work appends to a
/// Commitment stream goes through <see cref="Commitments.CommitmentStream"/>, which publishes through this bus.
/// </summary>
public static class LedgerOutbox
{
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
