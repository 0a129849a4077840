namespace ComputeLedger.Contracts;

// Integration events, version 1: what the ledger tells the outside world. They are published through Wolverine's
// Marten outbox in the same transaction as the ledger events that cause them. Id is stable: the same fact always
// carries the same Id (it is derived from the commitment, the stream version of the causing ledger event and the
// subject), so a consumer that remembers the ids it has handled gets every fact exactly once, whatever the redelivery.
// Shapes only grow: fields are added, never renamed or repurposed.

/// <summary>An amount of money in one currency (ISO 4217).</summary>
public sealed record MoneyAmount(decimal Amount, string Currency);

/// <summary>What every integration event carries.</summary>
public interface ILedgerIntegrationEvent
{
    /// <summary>The stable id consumers deduplicate on.</summary>
    Guid Id { get; }

    string CommitmentId { get; }

    /// <summary>When the ledger recorded the fact (known time).</summary>
    DateTimeOffset RecordedAt { get; }
}

/// <summary>A deal was signed; its upfront part is released on <see cref="SignedOn"/>.</summary>
public sealed record CommitmentSigned(Guid Id, string CommitmentId, string Provider, MoneyAmount Headline, MoneyAmount UpfrontReleased,
    DateOnly SignedOn, DateTimeOffset RecordedAt) : ILedgerIntegrationEvent;

/// <summary>The partner turned the offer down.</summary>
public sealed record CommitmentDeclined(Guid Id, string CommitmentId, string Provider, DateOnly? DeclinedOn, string? Reason,
    DateTimeOffset RecordedAt) : ILedgerIntegrationEvent;

/// <summary>A milestone was achieved on a business date: attested by an admin, or detected by the ledger from usage.</summary>
public sealed record MilestoneAchieved(Guid Id, string CommitmentId, string MilestoneId, string Kind, DateOnly AchievedOn, string Evidence,
    string RecordedBy, DateTimeOffset RecordedAt) : ILedgerIntegrationEvent;

/// <summary>Every milestone a tranche needs is achieved: the tranche can now be paid.</summary>
public sealed record TrancheBecameEligible(Guid Id, string CommitmentId, string TrancheId, MoneyAmount Amount, DateOnly EligibleOn,
    DateTimeOffset RecordedAt) : ILedgerIntegrationEvent;

/// <summary>An eligible tranche was paid out.</summary>
public sealed record TrancheReleased(Guid Id, string CommitmentId, string TrancheId, MoneyAmount Amount, DateOnly ReleasedOn,
    DateTimeOffset RecordedAt) : ILedgerIntegrationEvent;

/// <summary>
/// Consumption on a commitment reached <see cref="Percent"/> (50, 75, 90 or 100) of its committed compute.
/// <see cref="CrossedOn"/> is the window start (UTC date) of the usage record that made it reach the mark.
/// </summary>
public sealed record DrawdownThresholdCrossed(Guid Id, string CommitmentId, int Percent, MoneyAmount Committed, MoneyAmount Consumed,
    DateOnly CrossedOn, DateTimeOffset RecordedAt) : ILedgerIntegrationEvent;

/// <summary>The names the ledger uses for its integration events on every channel (queue message types, webhook <c>type</c>).</summary>
public static class IntegrationEventTypes
{
    public static readonly IReadOnlyDictionary<string, Type> ByName = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        [nameof(CommitmentSigned)] = typeof(CommitmentSigned),
        [nameof(CommitmentDeclined)] = typeof(CommitmentDeclined),
        [nameof(MilestoneAchieved)] = typeof(MilestoneAchieved),
        [nameof(TrancheBecameEligible)] = typeof(TrancheBecameEligible),
        [nameof(TrancheReleased)] = typeof(TrancheReleased),
        [nameof(DrawdownThresholdCrossed)] = typeof(DrawdownThresholdCrossed),
    };
}
