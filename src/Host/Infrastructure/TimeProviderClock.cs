namespace ComputeLedger.Host.Infrastructure;

/// <summary>
/// NodaTime's clock over .NET's TimeProvider, so deciders (IClock) and Marten's event timestamps (the known-time axis)
/// read one and the same clock, which tests can move.
/// </summary>
public sealed class TimeProviderClock(TimeProvider time) : IClock
{
    public Instant GetCurrentInstant() => Instant.FromDateTimeOffset(time.GetUtcNow());
}
