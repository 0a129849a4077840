namespace ComputeLedger.Host.Infrastructure;

/// <summary>
/// The loop every background job of the host runs: its work at start-up and then every <c>secondsKey</c> seconds of
/// configuration (0 or less switches the job off, and tests then run the work themselves). A tick that fails is the
/// job's to report (<see cref="Failed"/>) and the next tick tries again: an exception leaving a hosted service would
/// stop the whole host. Only the host stopping ends the loop.
/// </summary>
public abstract class PeriodicWork(IConfiguration configuration, string secondsKey, double defaultSeconds, TimeProvider? time = null) : BackgroundService
{
    /// <summary>The clock the ticks follow (the system's unless the job is given one).</summary>
    protected TimeProvider Time { get; } = time ?? TimeProvider.System;

    protected abstract Task Tick(CancellationToken ct);

    protected abstract void Failed(Exception fault);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seconds = configuration.GetValue(secondsKey, defaultSeconds);
        if (seconds <= 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds), Time);
        do
        {
            try
            {
                await Tick(stoppingToken);
            }
            // Any fault, a cancellation included (Npgsql and Marten raise some for a lost connection), unless the host is stopping.
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Failed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
