using JasperFx.Events;
using Marten.Events.Aggregation;

namespace ComputeLedger.Projections.Commitments;

/// <summary>Marten's adapter around the pure <see cref="TrancheEligibility.Next"/>; it adds only the stream version.</summary>
public sealed partial class TrancheEligibilityProjection : SingleStreamProjection<TrancheEligibility, string>
{
    public override TrancheEligibility? Evolve(TrancheEligibility? snapshot, string id, IEvent e)
    {
        var next = TrancheEligibility.Next(snapshot, e.Data);
        if (next is not null)
        {
            next.Version = (int)e.Version;
        }

        return next;
    }
}
