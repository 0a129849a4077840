namespace ComputeLedger.Host.Infrastructure;

/// <summary>
/// The one clock of the ledger (decisions and Marten's event timestamps, the known-time axis): the registered
/// TimeProvider, unless a simulation is running. Only the demo seeder simulates, while it records the demo's history
/// on an empty ledger before the host serves anything, so that what was known when is the history's, not the first second's.
/// </summary>
public sealed class LedgerTime(TimeProvider inner) : TimeProvider
{
    private long _simulatedTicks = -1;

    public override DateTimeOffset GetUtcNow()
    {
        var ticks = Interlocked.Read(ref _simulatedTicks);
        return ticks < 0 ? inner.GetUtcNow() : new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    /// <summary>Sets the simulated now (null returns to the real clock).</summary>
    public void Simulate(Instant? at) =>
        Interlocked.Exchange(ref _simulatedTicks, at is { } a ? a.ToDateTimeOffset().UtcTicks : -1);
}
