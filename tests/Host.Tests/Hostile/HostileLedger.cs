using Alba;
using ComputeLedger.Host.Tests.Infrastructure;

namespace ComputeLedger.Host.Tests.Hostile;

/// <summary>
/// The hostile suite's own host and database. Some of its inputs, on a ledger that accepts them, stop the async daemon
/// for good; on the shared host that would fail every test after this one. A group that leaves the ledger hurt marks it,
/// and the next group starts on a fresh host and database.
/// </summary>
public sealed class HostileLedger : IAsyncDisposable
{
    private IAlbaHost? _host;

    public string ConnectionString { get; private set; } = "";

    /// <summary>Set when a group left the projections unable to catch up.</summary>
    public bool Hurt { get; set; }

    public async Task<IAlbaHost> Host(LedgerFixture shared)
    {
        if (_host is not null && !Hurt)
        {
            return _host;
        }

        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        ConnectionString = await shared.NewDatabase();
        _host = await LedgerFixture.StartHost(ConnectionString);
        Hurt = false;
        return _host;
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}
