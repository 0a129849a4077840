namespace ComputeLedger.Host.Tests.Infrastructure;

/// <summary>The host's clock in tests: the real time unless a test pins it, so known times can be arranged.</summary>
public sealed class TestTime : TimeProvider
{
    public DateTimeOffset? Pinned { get; set; }

    public override DateTimeOffset GetUtcNow() => Pinned ?? base.GetUtcNow();
}
