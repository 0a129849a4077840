namespace ComputeLedger.Ledger.Commitments;

// The Commitment stream's events, version 1. Each has a stable stored name (see the Host's Marten
// configuration); meaning changes by adding an event or an optional field, never by repurposing one.
// RecordedAt is the moment the ledger decided the fact; RecordedBy names the API key that asked.

/// <summary>A deal was put on the table with all its terms; it starts every Commitment stream.</summary>
public sealed record CommitmentOffered(CommitmentTerms Terms, Instant RecordedAt, string RecordedBy);

/// <summary>The deal was signed on a business date; its upfront part is released on that date.</summary>
public sealed record CommitmentSigned(string CommitmentId, LocalDate SignedOn, Money UpfrontReleased, Instant RecordedAt, string RecordedBy);

/// <summary>The partner turned the offer down. Nothing of it will be paid.</summary>
public sealed record CommitmentDeclined(string CommitmentId, LocalDate? DeclinedOn, string? Reason, Instant RecordedAt, string RecordedBy);

/// <summary>A milestone happened on a business date, attested with evidence.</summary>
public sealed record MilestoneAchieved(string CommitmentId, string MilestoneId, LocalDate AchievedOn, string Evidence, Instant RecordedAt, string RecordedBy);

/// <summary>An eligible tranche was paid out on a business date.</summary>
public sealed record TrancheReleased(string CommitmentId, string TrancheId, Money Amount, LocalDate ReleasedOn, Instant RecordedAt, string RecordedBy);

/// <summary>
/// An attestation made in error is withdrawn. Its valid time is that of the achievement it cancels
/// (<see cref="AchievedOn"/>); a tranche already released stays released.
/// </summary>
public sealed record MilestoneRevoked(string CommitmentId, string MilestoneId, LocalDate AchievedOn, string Reason, Instant RecordedAt, string RecordedBy);

/// <summary>
/// A void or correction took cumulative consumption back under an achieved consumption milestone's threshold.
/// The milestone stays achieved (what was paid on it stands); this records the dip so analysts see it.
/// </summary>
public sealed record MilestoneThresholdReverted(string CommitmentId, string MilestoneId, LocalDate AchievedOn, decimal Consumed, string CausedBy, Instant RecordedAt);

/// <summary>A consumption milestone's deadline passed before cumulative consumption reached its threshold.</summary>
public sealed record MilestoneMissed(string CommitmentId, string MilestoneId, LocalDate Deadline, decimal Consumed, Instant RecordedAt);

/// <summary>
/// Cumulative consumption reached <see cref="Percent"/> of the committed compute. Recorded once per mark (50, 75, 90, 100);
/// a later void that takes consumption back under it does not un-record it. <see cref="CrossedOn"/> is the window start
/// of the usage record <see cref="CrossedBy"/> that reached the mark.
/// </summary>
public sealed record DrawdownThresholdCrossed(string CommitmentId, int Percent, Money Committed, Money Consumed, LocalDate CrossedOn, string CrossedBy, Instant RecordedAt);
