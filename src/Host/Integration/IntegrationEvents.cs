using System.Security.Cryptography;
using System.Text;
using ComputeLedger.Contracts;
using ComputeLedger.Ledger.Commitments;
using L = ComputeLedger.Ledger.Commitments;

namespace ComputeLedger.Host.Integration;

/// <summary>
/// Pure: which integration events a Commitment stream append announces. Each appended ledger event maps to at most one
/// message of its own kind, and every tranche that turns eligible on it (all its milestones achieved, the deal signed,
/// not released yet) adds a TrancheBecameEligible. A tranche that flips again after a revocation is a new flip.
/// </summary>
public static class IntegrationEvents
{
    /// <param name="before">The state the append was decided on; null for a new stream.</param>
    /// <param name="versionBefore">The stream version before the append (0 for a new stream).</param>
    /// <param name="appended">The ledger events appended, in order.</param>
    public static IReadOnlyList<ILedgerIntegrationEvent> For(Commitment? before, long versionBefore, IReadOnlyList<object> appended)
    {
        var messages = new List<ILedgerIntegrationEvent>();
        var state = before;
        var version = versionBefore;
        foreach (var e in appended)
        {
            version++;
            var next = state is null ? e is CommitmentOffered offered ? Commitment.Create(offered) : null : state.Apply(e);
            if (next is null)
            {
                continue;
            }

            var id = next.Id;
            switch (e)
            {
                case L.CommitmentSigned s:
                    messages.Add(new Contracts.CommitmentSigned(StableId(id, version, "signed"), id, next.Terms.Provider, Amount(next.Terms.Headline),
                        Amount(s.UpfrontReleased), s.SignedOn.ToDateOnly(), s.RecordedAt.ToDateTimeOffset()));
                    break;
                case L.CommitmentDeclined d:
                    messages.Add(new Contracts.CommitmentDeclined(StableId(id, version, "declined"), id, next.Terms.Provider, d.DeclinedOn?.ToDateOnly(),
                        d.Reason, d.RecordedAt.ToDateTimeOffset()));
                    break;
                case L.MilestoneAchieved m:
                    var kind = next.Terms.FindMilestone(m.MilestoneId)?.Kind ?? MilestoneKind.Attested;
                    messages.Add(new Contracts.MilestoneAchieved(StableId(id, version, $"milestone:{m.MilestoneId}"), id, m.MilestoneId,
                        kind.ToString(), m.AchievedOn.ToDateOnly(), m.Evidence, m.RecordedBy, m.RecordedAt.ToDateTimeOffset()));
                    break;
                case L.TrancheReleased r:
                    messages.Add(new Contracts.TrancheReleased(StableId(id, version, $"released:{r.TrancheId}"), id, r.TrancheId, Amount(r.Amount),
                        r.ReleasedOn.ToDateOnly(), r.RecordedAt.ToDateTimeOffset()));
                    break;
                case L.DrawdownThresholdCrossed t:
                    messages.Add(new Contracts.DrawdownThresholdCrossed(StableId(id, version, $"drawdown:{t.Percent}"), id, t.Percent, Amount(t.Committed),
                        Amount(t.Consumed), t.CrossedOn.ToDateOnly(), t.RecordedAt.ToDateTimeOffset()));
                    break;
            }

            foreach (var tranche in next.Terms.Tranches)
            {
                var was = state is not null && state.IsEligible(tranche) && !state.ReleasedTranches.ContainsKey(tranche.TrancheId);
                var now = next.IsEligible(tranche) && !next.ReleasedTranches.ContainsKey(tranche.TrancheId);
                if (now && !was)
                {
                    var eligibleOn = tranche.Milestones.Select(m => next.AchievedMilestones[m]).Append(next.SignedOn!.Value).Max();
                    messages.Add(new TrancheBecameEligible(StableId(id, version, $"eligible:{tranche.TrancheId}"), id, tranche.TrancheId,
                        Amount(tranche.Amount), eligibleOn.ToDateOnly(), RecordedAt(e)));
                }
            }

            state = next;
        }

        return messages;
    }

    /// <summary>
    /// A name-based (RFC 4122 version 5 style, SHA-256) id: the same commitment, causing stream version and subject always
    /// give the same id. A stream version belongs to exactly one ledger event, so two different facts never share an id.
    /// </summary>
    public static Guid StableId(string commitmentId, long version, string subject)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"computeledger|{commitmentId}|{version}|{subject}"));
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    private static MoneyAmount Amount(Money money) => new(money.Amount, money.Currency);

    private static DateTimeOffset RecordedAt(object e) => e switch
    {
        L.CommitmentSigned s => s.RecordedAt.ToDateTimeOffset(),
        L.MilestoneAchieved m => m.RecordedAt.ToDateTimeOffset(),
        L.CommitmentOffered o => o.RecordedAt.ToDateTimeOffset(),
        _ => DateTimeOffset.UnixEpoch,
    };
}
