using ComputeLedger.Projections.Usage;
using Marten;

namespace ComputeLedger.Host.Usage.Closing;

/// <summary>
/// Closes known days in the background, every Ledger:DayCloseSeconds (default 60; 0 switches it off, and the tests call
/// <see cref="KnownDayHours.CloseDue"/> themselves): each day that ended more than a few minutes ago is summed per valid
/// hour once (<see cref="KnownDayHours"/>), so an instant asOf reads those sums instead of replaying the day's events.
/// A failure is logged and tried again on the next tick; until a day is closed, reads replay its events as before.
/// </summary>
public sealed class DayClose(IDocumentStore store, IConfiguration configuration, IClock clock, ILogger<DayClose> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seconds = configuration.GetValue("Ledger:DayCloseSeconds", 60.0);
        if (seconds <= 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
        do
        {
            try
            {
                var closed = await KnownDayHours.CloseDue(store, clock.GetCurrentInstant(), stoppingToken);
                if (closed > 0)
                {
                    logger.LogInformation("Closed {Days} known days (hourly usage sums for instant reads)", closed);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Closing known days failed; retrying on the next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
