using ComputeLedger.Projections.Usage;
using ComputeLedger.Host.Infrastructure;
using Marten;

namespace ComputeLedger.Host.Usage.Closing;

/// <summary>
/// Closes known days in the background, every Ledger:DayCloseSeconds (default 60; 0 switches it off, and the tests call
/// <see cref="KnownDayHours.CloseDue"/> themselves): each day that ended more than a few minutes ago is summed per valid
/// hour once (<see cref="KnownDayHours"/>), so an instant asOf reads those sums instead of replaying the day's events.
/// A failure is logged and tried again on the next tick; until a day is closed, reads replay its events as before.
/// </summary>
public sealed class DayClose(IDocumentStore store, IConfiguration configuration, IClock clock, ILogger<DayClose> logger)
    : PeriodicWork(configuration, "Ledger:DayCloseSeconds", 60)
{
    protected override async Task Tick(CancellationToken ct)
    {
        var closed = await KnownDayHours.CloseDue(store, clock.GetCurrentInstant(), ct);
        if (closed > 0)
        {
            logger.LogInformation("Closed {Days} known days (hourly usage sums for instant reads)", closed);
        }
    }

    protected override void Failed(Exception fault) => logger.LogWarning(fault, "Closing known days failed; retrying on the next tick");
}
