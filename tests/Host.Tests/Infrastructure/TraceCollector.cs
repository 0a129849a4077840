using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;

namespace ComputeLedger.Host.Tests.Infrastructure;

/// <summary>
/// Keeps the finished spans of the traces a test asks for, on the shared host's own tracer provider: a second host in
/// the process would share ASP.NET Core's meters by name with the first and end them when disposed.
/// </summary>
public sealed class TraceCollector : BaseProcessor<Activity>
{
    private readonly ConcurrentDictionary<ActivityTraceId, ConcurrentQueue<Activity>> _watched = new();

    public void Watch(ActivityTraceId traceId) => _watched.TryAdd(traceId, new ConcurrentQueue<Activity>());

    public List<Activity> Spans(ActivityTraceId traceId) => _watched.TryGetValue(traceId, out var spans) ? [.. spans] : [];

    public override void OnEnd(Activity data)
    {
        if (_watched.TryGetValue(data.TraceId, out var spans))
        {
            spans.Enqueue(data);
        }
    }
}
