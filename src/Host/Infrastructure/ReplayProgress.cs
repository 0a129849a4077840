namespace ComputeLedger.Host.Infrastructure;

/// <summary>
/// Told how many events a replay has read. Silent in the web host; the analyst CLI registers one that prints,
/// so a long replay shows it is moving.
/// </summary>
public class ReplayProgress
{
    public virtual void Read(long events)
    {
    }

    public virtual void Finished(long events)
    {
    }
}
