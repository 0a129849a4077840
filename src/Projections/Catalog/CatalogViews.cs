using ComputeLedger.Ledger.Catalog;
using JasperFx.Events;
using Marten.Events.Aggregation;

namespace ComputeLedger.Projections.Catalog;

/// <summary>One chip of the catalog; the stream id is <c>chip:{name in lower case}</c>.</summary>
public sealed class ChipView
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Vendor { get; set; } = "";
    public string Purpose { get; set; } = "";
    public string? Description { get; set; }
    public Instant AddedAt { get; set; }

    /// <summary>Every publication of the chip's figures, in the order recorded (effective-dated reference data).</summary>
    public List<ChipSpecsPublished> Specs { get; set; } = [];

    public static string StreamOf(string name) => $"chip:{name.ToLowerInvariant()}";
}

public sealed partial class ChipViewProjection : SingleStreamProjection<ChipView, string>
{
    private static ChipView With(ChipView chip, ChipSpecsPublished published)
    {
        chip.Specs.Add(published);
        return chip;
    }

    public override ChipView? Evolve(ChipView? snapshot, string id, IEvent e) => e.Data switch
    {
        ChipAdded added => new ChipView
        {
            Id = id,
            Name = added.Chip.Name,
            Vendor = added.Chip.Vendor,
            Purpose = added.Chip.Purpose,
            Description = added.Chip.Description,
            AddedAt = added.RecordedAt,
        },
        ChipSpecsPublished published when snapshot is not null => With(snapshot, published),
        _ => snapshot,
    };
}

/// <summary>
/// Every rate card of one scope, in the order recorded. Stream ids: <c>rates:{provider}</c> for a provider's
/// card, <c>rates:commitment:{id}</c> for one commitment's negotiated overrides.
/// </summary>
public sealed class RateBookView
{
    public string Id { get; set; } = "";
    public List<RateCardPublished> Cards { get; set; } = [];

    public RateBook ToRateBook() => new(Cards);

    public static string ProviderStream(string provider) => $"rates:{provider}";

    public static string CommitmentStream(string commitmentId) => $"rates:commitment:{commitmentId}";
}

public sealed partial class RateBookProjection : SingleStreamProjection<RateBookView, string>
{
    public override RateBookView? Evolve(RateBookView? snapshot, string id, IEvent e)
    {
        if (e.Data is not RateCardPublished card)
        {
            return snapshot;
        }

        var book = snapshot ?? new RateBookView { Id = id };
        book.Cards.Add(card);
        return book;
    }
}
