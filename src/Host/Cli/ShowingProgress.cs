using ComputeLedger.Host.Usage.Exporting;
using ComputeLedger.Host.Infrastructure;
using Spectre.Console;

namespace ComputeLedger.Host.Cli;

/// <summary>Long reads shown with Spectre's progress display, on stderr so stdout stays the result alone.</summary>
public static class ShowingProgress
{
    public static Task<T> Replay<T>(Func<ReplayProgress, Task<T>> work) => Show("replaying", task => work(new Told(task)));

    public static Task<T> Export<T>(Func<ExportProgress, Task<T>> work) =>
        Show("export", task => work(new ExportProgress(p => task.Description = $"export: {p.Events:N0} events read, {p.Rows:N0} rows written")));

    private static Task<T> Show<T>(string label, Func<ProgressTask, Task<T>> work) =>
        Consoles.Error.Progress()
            .AutoClear(false)
            .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }, new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(label).IsIndeterminate();
                try
                {
                    return await work(task);
                }
                finally
                {
                    task.StopTask();
                }
            });

    private sealed class Told(ProgressTask task) : ReplayProgress
    {
        public override void Read(long events) => task.Description = $"replaying: {events:N0} events read";

        public override void Finished(long events) => task.Description = $"replaying: {events:N0} events read, folding";
    }
}
