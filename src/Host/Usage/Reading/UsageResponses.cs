namespace ComputeLedger.Host.Usage.Reading;

public sealed record SpendRow(string Chip, string Provider, string Month, decimal ChipHours, Money Spend, decimal Tokens, decimal? CostPer1MTokens, long Records);

public sealed record SpendResponse(IReadOnlyList<SpendRow> Rows, ProjectionLag Lag);

public sealed record RevenueRow(string Provider, string Month, Money Revenue, Money Backlog, int ActiveCommitments, long Records);

public sealed record RevenueResponse(IReadOnlyList<RevenueRow> Rows, ProjectionLag Lag);

public sealed record ChipConsumption(string Chip, decimal ChipHours, Money Consumed);

public sealed record MonthConsumption(string Month, Money Consumed);

public sealed record DrawdownResponse(
    string CommitmentId, string Provider, Money Committed, Money Consumed, Money Remaining,
    IReadOnlyList<ChipConsumption> ByChip, IReadOnlyList<MonthConsumption> ByMonth,
    Money ProjectedConsumption, Money ProjectedShortfall, LocalDate? TermStart, LocalDate? TermEnd, long Records, ProjectionLag Lag);
